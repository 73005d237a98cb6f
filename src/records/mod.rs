//! Typed customer records and their validation into a columnar [`History`].
//!
//! Records: [`Customer`], [`Order`], [`Interaction`], [`Feedback`], and for
//! contractual businesses [`Subscription`] with its dated
//! [`SubscriptionEvent`]s (renewals, plan changes, pauses, payment failures,
//! cancellations with a [`ChurnReason`], ends). [`HistoryBuilder`] validates
//! them into a [`History`] and explains every dropped or repaired record in
//! a [`DataQualityReport`]; with [`HistoryBuilder::identities`] it first
//! merges the source ids an [`IdentityResolver`] found to be one customer.
//! [`SubscriptionView`] answers point-in-time questions (status, price,
//! MRR, next period end) the same way for every consumer.

// The CSV reader is the only user of some staging helpers.
#![cfg_attr(not(feature = "csv"), allow(dead_code))]

mod id;
mod subscription;
mod subscription_view;
mod types;

pub use id::CustomerId;
pub(crate) use subscription::code as subscription_code;
pub use subscription::{
    BillingPeriod, ChurnReason, Subscription, SubscriptionEvent, SubscriptionEventKind,
};
pub use subscription_view::{
    BYTES_PER_SUBSCRIPTION, BYTES_PER_SUBSCRIPTION_EVENT, SubscriptionEvents, SubscriptionStatus,
    SubscriptionView, Subscriptions,
};
pub use types::{
    ComplaintTopic, Customer, Feedback, Interaction, InteractionKind, Order, SatisfactionScale,
};
mod builder;
#[cfg(feature = "csv")]
mod csv;
mod history;
mod identity;
mod quality;
mod time;

pub use builder::{Duplicates, EventsBeforeSignup, HistoryBuilder, UnknownCustomers};
#[cfg(feature = "csv")]
pub use csv::{
    CsvFormat, CustomerCsv, FeedbackCsv, InteractionCsv, MAX_FIELD_BYTES, MAX_ID_BYTES,
    MAX_LINE_BYTES, OrderCsv, SubscriptionCsv, SubscriptionEventCsv,
};
#[doc(hidden)]
pub use history::CompactKind;
pub(crate) use history::FeedbackRow;
pub use history::{
    Attributes, CustomerView, FeedbackSlice, History, HistorySummary, Interactions, MemoryUsage,
    Orders,
};
// The Arrow reader (feature `arrow`) parses ids and text times as CSV does.
#[cfg(feature = "csv")]
pub use identity::IdentifierCsv;
pub use identity::{
    Identifier, IdentifierKind, IdentityGroup, IdentityMap, IdentityResolver, IgnoredIdentifier,
    InvalidIdentifier,
};
pub use quality::{
    Action, DataQualityReport, Issue, IssueCount, Problem, RecordCounts, RecordKind, RecordRef,
};
#[cfg(feature = "arrow")]
pub(crate) use {id::parse_canonical_u64, time::TimeFormat, time::parse_time};
