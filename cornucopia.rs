// The generated crate's root, copied into codegen/ by cornucopia (`static` in cornucopia.toml):
// cornucopia's modules, with bottles-core's client in place of cornucopia's own, so that every
// generated query reaches the core with its SQL (see bottles_core::generated_crate).
bottles_core::generated_crate!();
