//! `wasm-size`: where a WebAssembly file's bytes go, by Rust crate.
//!
//!   wasm-size target/wasm32-unknown-unknown/wasm-release/frontend.wasm
//!
//! Reads the module's code section and its `name` section (rustc writes one unless the profile
//! strips symbols; wasm-opt drops it, so point this at cargo's output, not the site's), demangles
//! each function's name and adds its body to the crate the name starts with. A generic function
//! counts for the crate that defines it, wherever it was instantiated; static data is one line.

use std::{collections::HashMap, path::PathBuf};

use anyhow::Context;
use clap::Parser as _;
use wasmparser::{KnownCustom, Name, Parser, Payload, TypeRef};

#[derive(Debug, clap::Parser)]
#[command(about)]
struct Args {
    /// The module, with its `name` section.
    wasm: PathBuf,
    /// Lines to print, largest first.
    #[arg(long, default_value_t = 25)]
    top: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bytes = std::fs::read(&args.wasm)
        .with_context(|| format!("cannot read {}", args.wasm.display()))?;
    let module = Module::read(&bytes)?;
    let total = bytes.len() - module.custom;
    let shares = module.by_crate();
    println!(
        "{} bytes in {}, of which {} of names and other custom sections (not counted below)",
        bytes.len(),
        args.wasm.display(),
        module.custom
    );
    println!("{:>9}  {:>5}  what", "bytes", "%");
    for (what, size) in shares.iter().take(args.top) {
        println!(
            "{size:>9}  {:>5.1}  {what}",
            *size as f64 * 100.0 / total as f64
        );
    }
    let rest: usize = shares.iter().skip(args.top).map(|(_, size)| size).sum();
    if rest > 0 {
        println!(
            "{rest:>9}  {:>5.1}  (the rest)",
            rest as f64 * 100.0 / total as f64
        );
    }
    Ok(())
}

#[derive(Default)]
struct Module<'a> {
    imported_functions: u32,
    /// Each defined function's body size, in order.
    bodies: Vec<usize>,
    names: HashMap<u32, &'a str>,
    data: usize,
    /// Types, imports, tables, exports and the like, whole.
    other: usize,
    /// Names, producers, debug info: what wasm-opt strips from the site's file.
    custom: usize,
}

impl<'a> Module<'a> {
    fn read(bytes: &'a [u8]) -> anyhow::Result<Self> {
        let mut module = Module::default();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload? {
                Payload::ImportSection(imports) => {
                    module.other += imports.range().len();
                    for import in imports.into_imports() {
                        if matches!(import?.ty, TypeRef::Func(_)) {
                            module.imported_functions += 1;
                        }
                    }
                }
                Payload::CodeSectionEntry(body) => module.bodies.push(body.range().len()),
                Payload::DataSection(data) => module.data += data.range().len(),
                Payload::CustomSection(custom) => match custom.as_known() {
                    KnownCustom::Name(names) => {
                        module.custom += custom.range().len();
                        for name in names {
                            if let Name::Function(functions) = name? {
                                for naming in functions {
                                    let naming = naming?;
                                    module.names.insert(naming.index, naming.name);
                                }
                            }
                        }
                    }
                    _ => module.custom += custom.range().len(),
                },
                Payload::TypeSection(s) => module.other += s.range().len(),
                Payload::FunctionSection(s) => module.other += s.range().len(),
                Payload::TableSection(s) => module.other += s.range().len(),
                Payload::GlobalSection(s) => module.other += s.range().len(),
                Payload::ExportSection(s) => module.other += s.range().len(),
                Payload::ElementSection(s) => module.other += s.range().len(),
                _ => {}
            }
        }
        anyhow::ensure!(
            !module.names.is_empty(),
            "no function names: build without stripping symbols and before wasm-opt"
        );
        Ok(module)
    }

    /// Bytes per crate, largest first, with the static data and the other sections as lines of
    /// their own.
    fn by_crate(&self) -> Vec<(String, usize)> {
        let mut shares: HashMap<String, usize> = HashMap::new();
        for (n, size) in self.bodies.iter().enumerate() {
            let index = self.imported_functions + n as u32;
            let owner = match self.names.get(&index) {
                Some(name) => crate_of(&rustc_demangle::demangle(name).to_string()),
                None => "(unnamed functions)".to_owned(),
            };
            *shares.entry(owner).or_default() += size;
        }
        shares.insert("(static data)".to_owned(), self.data);
        shares.insert("(types, imports, tables, exports)".to_owned(), self.other);
        let mut shares: Vec<_> = shares.into_iter().collect();
        shares.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        shares
    }
}

/// The crate a demangled name belongs to: `leptos::…` is leptos's; `<X as Trait>::f` is X's
/// crate, or the trait's when X is not a path (`T`, `[T]`, a tuple); names that are not Rust
/// paths (the allocator's, wasm-bindgen's generated glue) are listed as they are.
fn crate_of(demangled: &str) -> String {
    let leading = if let Some((self_type, trait_path)) = demangled
        .strip_prefix('<')
        .and_then(|inner| inner.split_once(" as "))
    {
        let self_type = self_type
            .trim_start_matches(['&', '*'])
            .trim_start_matches("mut ")
            .trim_start_matches("const ")
            .trim_start_matches("dyn ");
        leading_crate(self_type).or_else(|| leading_crate(trait_path))
    } else {
        leading_crate(demangled.trim_start_matches('<'))
    };
    match leading {
        Some(krate) => krate.to_owned(),
        None => format!(
            "(no crate) {}",
            demangled.split('.').next().unwrap_or(demangled)
        ),
    }
}

/// The first segment of `path`, without the disambiguator v0 mangling adds (`core[c593…]`).
fn leading_crate(path: &str) -> Option<&str> {
    let (krate, _) = path.split_once("::")?;
    let krate = krate.split_once('[').map_or(krate, |(name, _)| name);
    (!krate.is_empty() && krate.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(krate)
}

#[cfg(test)]
mod tests {
    use super::crate_of;

    #[test]
    fn a_function_belongs_to_the_crate_its_path_starts_with() {
        assert_eq!(crate_of("leptos::mount::hydrate_body"), "leptos");
        assert_eq!(
            crate_of(
                "<serde_json::de::Deserializer<R> as serde::de::Deserializer>::deserialize_any"
            ),
            "serde_json"
        );
        assert_eq!(crate_of("<&mut T as core::fmt::Write>::write_str"), "core");
        assert_eq!(
            crate_of("<alloc::vec::Vec<T> as core::ops::drop::Drop>::drop"),
            "alloc"
        );
        assert_eq!(
            crate_of("__wbindgen_malloc"),
            "(no crate) __wbindgen_malloc"
        );
    }
}
