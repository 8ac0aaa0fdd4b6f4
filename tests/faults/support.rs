//! What only the fault tests use: the register's state file, a deterministic generator, the
//! figures CI prints.

use std::path::Path;

use kkt::emulator::RegisterState;

/// The register's state as its state file holds it.
pub fn state_file(path: &Path) -> RegisterState {
    #[derive(serde::Deserialize)]
    struct File {
        state: RegisterState,
    }
    let text = std::fs::read(path).unwrap();
    serde_json::from_slice::<File>(&text).unwrap().state
}

/// A small deterministic generator (splitmix64) for the random points of the tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Prints a test's figures and keeps them in `target/tmp/fault-figures/NAME.txt` (CI prints them).
pub fn figures(name: &str, line: &str) {
    eprintln!("FIGURES {name}: {line}");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fault-figures");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(format!("{}.txt", name.replace(' ', "_"))), format!("{name}: {line}\n"));
}
