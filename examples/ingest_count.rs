//! Read inputs with a sink that counts and drops exchanges: the memory and speed of ingest alone
//! (`harken exchanges` also keeps every exchange to sort and print them). Used by benches/.
//!
//! cargo run --release --example ingest_count -- FILE...

fn main() {
    let mut code = 0;
    for (i, arg) in std::env::args().skip(1).enumerate() {
        let mut n = 0usize;
        let mut statuses = std::collections::BTreeMap::<String, usize>::new();
        let info = harken::ingest::read_input(std::path::Path::new(&arg), i, Default::default(), &mut |ex| {
            n += 1;
            *statuses.entry(ex.status().map_or("none".into(), |s| s.to_string())).or_default() += 1;
        });
        println!("{arg}: {n} exchanges {statuses:?}");
        for note in &info.notes {
            println!("  note {}: {}", note.code, note.message);
        }
        if let Some(e) = info.error {
            eprintln!("error: {e}");
            code = 2;
        }
    }
    std::process::exit(code);
}
