//! Identity resolution: records with three identifiers each (phone, e-mail,
//! loyalty card), a third of them linked to another record by one of them,
//! and a few front-desk phone numbers shared by thousands.
//!
//! `cargo bench --bench identity`; set `CHURNWISE_IDENTITY_RECORDS` (default
//! 1 000 000) to measure another size, e.g. 10 000 000.

use std::hint::black_box;

use churnwise::records::{Identifier, IdentifierKind, IdentityResolver};
use criterion::{Criterion, criterion_group, criterion_main};

fn identifiers(records: u64) -> Vec<Identifier> {
    let mut out = Vec::with_capacity(3 * records as usize);
    for r in 0..records {
        // Every third record shares its phone with the previous record, every
        // fifth its e-mail with the record five back; 1 in 1000 gives the
        // front-desk number.
        let phone = if r % 1000 == 7 {
            "+86 10 8888 0000".to_string()
        } else if r % 3 == 1 {
            format!(
                "138 {:04} {:04}",
                (r - 1) / 10_000 % 10_000,
                (r - 1) % 10_000
            )
        } else {
            format!("138 {:04} {:04}", r / 10_000 % 10_000, r % 10_000)
        };
        let email = if r % 5 == 0 && r >= 5 {
            format!("User{}@Example.com", r - 5)
        } else {
            format!("user{r}@example.com")
        };
        out.push(Identifier::new(r, IdentifierKind::Phone, phone));
        out.push(Identifier::new(r, IdentifierKind::Email, email));
        out.push(Identifier::new(
            r,
            IdentifierKind::LoyaltyCard,
            format!("LC-{r:010}"),
        ));
    }
    out
}

fn bench(c: &mut Criterion) {
    let records: u64 = std::env::var("CHURNWISE_IDENTITY_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let ids = identifiers(records);
    let resolver = IdentityResolver::new().default_country("86");
    let mut group = c.benchmark_group("identity");
    group.sample_size(10);
    group.bench_function(format!("resolve {records} records x 3 identifiers"), |b| {
        b.iter(|| black_box(resolver.resolve(black_box(&ids)).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
