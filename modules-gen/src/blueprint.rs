//! The blueprint (mesh.yaml).
