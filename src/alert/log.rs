//! Cooldowns and de-duplication across runs.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::policy::Severity;
use crate::records::CustomerId;
use crate::util::{FastMap, MICROS_PER_DAY};
use crate::{Error, Result};

/// When a rule last alerted on a customer, until when it stays quiet, and
/// at which severity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Entry {
    fired_at: DateTime<Utc>,
    quiet_until: DateTime<Utc>,
    severity: Severity,
}

/// Remembers which rule alerted on which customer, so that the same rule
/// does not alert on the same customer again within its cooldown (unless its
/// severity rose, e.g. after a policy edit). Bounded: beyond its capacity,
/// expired entries go first, then those whose quiet period ends soonest
/// (counted in [`evicted`](Self::evicted)). Serde-persisted between runs.
///
/// # Example
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use churnwise::alert::{AlertEngine, AlertLog, AlertPolicy, AlertRule, Severity};
/// use churnwise::rules::{Condition, Route};
/// use churnwise::score::{Profile, Profiles};
///
/// let profiles = Profiles::from_profiles(vec![Profile::new(1u64).with_feature("complaints_30d", 2.0)])?;
/// let rule = AlertRule::new("complaints", Condition::field("complaints_30d").gte(2), Severity::High, Route::CustomerService)
///     .with_cooldown_days(14.0);
/// let engine = AlertEngine::new(AlertPolicy::new(vec![rule])?);
/// let mut log = AlertLog::new(10_000)?;
/// let monday = Utc.with_ymd_and_hms(2024, 6, 3, 9, 0, 0).unwrap();
/// assert_eq!(engine.evaluate_with_log(&profiles, None, &mut log, monday)?.alerts().len(), 1);
/// // A week later the rule still holds, but the customer is in its cooldown.
/// let later = engine.evaluate_with_log(&profiles, None, &mut log, monday + TimeDelta::days(7))?;
/// assert_eq!((later.alerts().len(), later.suppressed()), (0, 1));
/// // The log survives a restart as JSON.
/// let mut log: AlertLog = serde_json::from_str(&serde_json::to_string(&log).unwrap()).unwrap();
/// assert_eq!(engine.evaluate_with_log(&profiles, None, &mut log, monday + TimeDelta::days(15))?.alerts().len(), 1);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AlertLog {
    capacity: usize,
    /// rule id → customer → entry.
    rules: FastMap<Arc<str>, FastMap<CustomerId, Entry>>,
    len: usize,
    evicted: u64,
}

impl AlertLog {
    /// An empty log holding at most `capacity` (rule, customer) entries.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) for 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::AlertLog;
    ///
    /// let log = AlertLog::new(10_000)?;
    /// assert!(log.is_empty());
    /// assert!(AlertLog::new(0).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(capacity: usize) -> Result<Self> {
        if capacity == 0 {
            return Err(Error::invalid_parameter("capacity", "must be at least 1"));
        }
        Ok(AlertLog {
            capacity,
            rules: FastMap::default(),
            len: 0,
            evicted: 0,
        })
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no entries are held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most entries held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Entries dropped to stay within capacity before their quiet period ended.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// When `rule` last alerted on `customer`, if logged.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::CustomerId;
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::alert::{AlertEngine, AlertLog, AlertPolicy, AlertRule, Severity};
    /// # use churnwise::rules::{Condition, Route};
    /// # use churnwise::score::{Profile, Profiles};
    /// # let profiles = Profiles::from_profiles(vec![
    /// #     Profile::new(1u64).with_feature("complaints_30d", 2.0),
    /// #     Profile::new(2u64).with_feature("complaints_30d", 3.0),
    /// # ])?;
    /// # let rule = AlertRule::new("complaints", Condition::field("complaints_30d").gte(2), Severity::High, Route::CustomerService);
    /// # let engine = AlertEngine::new(AlertPolicy::new(vec![rule])?);
    /// # let now = Utc.with_ymd_and_hms(2024, 6, 3, 9, 0, 0).unwrap();
    /// let mut log = AlertLog::new(100)?;
    /// engine.evaluate_with_log(&profiles, None, &mut log, now)?;
    /// assert_eq!(log.last_alert("complaints", &CustomerId::from(2u64)), Some(now));
    /// assert_eq!(log.last_alert("complaints", &CustomerId::from(3u64)), None);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn last_alert(&self, rule: &str, customer: &CustomerId) -> Option<DateTime<Utc>> {
        self.rules.get(rule)?.get(customer).map(|e| e.fired_at)
    }

    /// Whether an alert of `rule` at `severity` on `customer` at `now` is held back.
    pub(crate) fn holds_back(
        &self,
        customer: &CustomerId,
        rule: &str,
        severity: Severity,
        now: DateTime<Utc>,
    ) -> bool {
        self.rules
            .get(rule)
            .and_then(|m| m.get(customer))
            .is_some_and(|e| now < e.quiet_until && severity <= e.severity)
    }

    pub(crate) fn record(
        &mut self,
        customer: &CustomerId,
        rule: &str,
        severity: Severity,
        now: DateTime<Utc>,
        cooldown_days: f64,
    ) {
        let quiet =
            TimeDelta::microseconds((cooldown_days * MICROS_PER_DAY as f64).min(1e17) as i64);
        let entry = Entry {
            fired_at: now,
            quiet_until: now
                .checked_add_signed(quiet)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            severity,
        };
        let customers = match self.rules.get_mut(rule) {
            Some(m) => m,
            None => self.rules.entry(Arc::from(rule)).or_default(),
        };
        if customers.insert(customer.clone(), entry).is_none() {
            self.len += 1;
        }
    }

    /// Drops expired entries, then, above capacity, those that end soonest.
    pub(crate) fn prune(&mut self, now: DateTime<Utc>) {
        if self.len <= self.capacity {
            return;
        }
        for m in self.rules.values_mut() {
            m.retain(|_, e| e.quiet_until > now);
        }
        self.len = self.rules.values().map(FastMap::len).sum();
        if self.len > self.capacity {
            let mut entries = self.entries();
            // Keep the entries whose quiet period lasts longest (ties: rule, customer).
            entries.sort_by(|a, b| {
                (b.2.quiet_until.cmp(&a.2.quiet_until))
                    .then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1)))
            });
            let dropped = entries.split_off(self.capacity);
            self.evicted += dropped.len() as u64;
            for (rule, customer, _) in &dropped {
                if let Some(m) = self.rules.get_mut(rule) {
                    m.remove(customer);
                }
            }
            self.len = self.capacity;
        }
        self.rules.retain(|_, m| !m.is_empty());
    }

    /// Every entry, sorted by rule and customer.
    fn entries(&self) -> Vec<(Arc<str>, CustomerId, Entry)> {
        let mut out: Vec<_> = self
            .rules
            .iter()
            .flat_map(|(rule, m)| m.iter().map(|(c, e)| (rule.clone(), c.clone(), *e)))
            .collect();
        out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        out
    }
}

/// The persisted form: entries sorted by rule and customer, so equal logs
/// serialize identically.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogRepr {
    capacity: usize,
    evicted: u64,
    entries: Vec<EntryRepr>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryRepr {
    rule: Arc<str>,
    customer: CustomerId,
    #[serde(flatten)]
    entry: Entry,
}

impl Serialize for AlertLog {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        LogRepr {
            capacity: self.capacity,
            evicted: self.evicted,
            entries: self
                .entries()
                .into_iter()
                .map(|(rule, customer, entry)| EntryRepr {
                    rule,
                    customer,
                    entry,
                })
                .collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for AlertLog {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let repr = LogRepr::deserialize(d)?;
        let mut log = AlertLog::new(repr.capacity).map_err(serde::de::Error::custom)?;
        log.evicted = repr.evicted;
        for e in repr.entries {
            if log
                .rules
                .entry(e.rule)
                .or_default()
                .insert(e.customer, e.entry)
                .is_none()
            {
                log.len += 1;
            }
        }
        Ok(log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, day, 0, 0, 0).unwrap()
    }

    #[test]
    fn cooldown_holds_back_unless_severity_rises() {
        let mut log = AlertLog::new(10).unwrap();
        let (c, rule): (CustomerId, Arc<str>) = (1u64.into(), Arc::from("r"));
        log.record(&c, &rule, Severity::Medium, t(1), 7.0);
        assert!(log.holds_back(&c, "r", Severity::Medium, t(7)));
        assert!(log.holds_back(&c, "r", Severity::Low, t(7)));
        assert!(!log.holds_back(&c, "r", Severity::High, t(7)));
        assert!(!log.holds_back(&c, "r", Severity::Medium, t(8))); // 7 days later
        assert!(!log.holds_back(&c, "other", Severity::Medium, t(2)));
        assert!(!log.holds_back(&2u64.into(), "r", Severity::Medium, t(2)));
        assert_eq!(log.last_alert("r", &c), Some(t(1)));
    }

    #[test]
    fn capacity_drops_expired_then_soonest_ending() {
        let mut log = AlertLog::new(2).unwrap();
        let rule: Arc<str> = Arc::from("r");
        log.record(&1u64.into(), &rule, Severity::Low, t(1), 1.0); // quiet until day 2
        log.record(&2u64.into(), &rule, Severity::Low, t(1), 10.0); // until day 11
        log.record(&3u64.into(), &rule, Severity::Low, t(3), 5.0); // until day 8
        log.prune(t(3));
        assert_eq!((log.len(), log.evicted()), (2, 0)); // customer 1 had expired
        log.record(&4u64.into(), &rule, Severity::Low, t(3), 30.0);
        log.prune(t(3));
        assert_eq!((log.len(), log.evicted()), (2, 1)); // customer 3 ends soonest
        assert!(log.last_alert("r", &3u64.into()).is_none());
        assert!(log.last_alert("r", &2u64.into()).is_some());
        let json = serde_json::to_string(&log).unwrap();
        let back: AlertLog = serde_json::from_str(&json).unwrap();
        assert_eq!(back, log);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert!(AlertLog::new(0).is_err());
    }
}
