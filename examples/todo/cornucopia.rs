// The generated crate's root, copied into codegen/ by cornucopia (`static` in cornucopia.toml):
// cornucopia's own lib.rs, plus its GenericClient for bottles-core's clients.
include!("lib.rs");
bottles_core::generic_client!();
