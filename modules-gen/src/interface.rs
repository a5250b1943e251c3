//! Module interfaces (variables and outputs) read from HCL.
