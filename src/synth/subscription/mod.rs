//! The synthetic subscription business: contractual customers with plans,
//! billing periods, renewals, payment failures and cancellations with true
//! reasons. See the [module docs](crate::synth#subscription-businesses).

mod config;
mod life;
mod oracle;
mod population;

pub use config::SubscriptionPopulationConfig;
pub use population::{SubscriptionPopulation, SubscriptionTruth};
