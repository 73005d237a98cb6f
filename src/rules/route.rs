//! The team that owns an alert or an intervention.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// The team that owns an alert.
///
/// In documents a route is its name: `sales`, `customer_service`,
/// `marketing`, `after_sales`, or any other non-empty name for a team of your own.
///
/// # Example
///
/// ```
/// use churnwise::rules::Route;
///
/// assert_eq!(Route::from_name("after_sales")?, Route::AfterSales);
/// assert_eq!(Route::from_name("key accounts")?.name(), "key accounts");
/// assert!(Route::from_name("  ").is_err());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Route {
    /// Account managers and sales.
    Sales,
    /// Customer service and support.
    CustomerService,
    /// Marketing (campaigns, offers).
    Marketing,
    /// After-sales service (repairs, returns).
    AfterSales,
    /// A team of your own.
    Custom(String),
}

impl Route {
    /// The route of a name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) for a blank name.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Route;
    ///
    /// assert_eq!(Route::from_name("customer_service")?, Route::CustomerService);
    /// assert_eq!(Route::from_name("retention desk")?, Route::Custom("retention desk".into()));
    /// assert!(Route::from_name("").is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_name(name: &str) -> Result<Route> {
        Ok(match name {
            "sales" => Route::Sales,
            "customer_service" => Route::CustomerService,
            "marketing" => Route::Marketing,
            "after_sales" => Route::AfterSales,
            other if other.trim().is_empty() => {
                return Err(Error::invalid_parameter(
                    "route",
                    "a route needs a team name",
                ));
            }
            other => Route::Custom(other.to_owned()),
        })
    }

    /// The name used in documents.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Route;
    ///
    /// assert_eq!(Route::AfterSales.name(), "after_sales");
    /// assert_eq!(Route::Custom("key accounts".into()).name(), "key accounts");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            Route::Sales => "sales",
            Route::CustomerService => "customer_service",
            Route::Marketing => "marketing",
            Route::AfterSales => "after_sales",
            Route::Custom(name) => name,
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Route {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Route {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Route::from_name(&name).map_err(serde::de::Error::custom)
    }
}
