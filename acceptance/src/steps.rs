//! One acceptance step runner for every resource, in the manner of terraform-plugin-testing's
//! `TestCase`: the same checks after every step, so no resource test forgets one.
//!
//! A test composes the steps and reads AWS back through the SDK between them:
//!
//! 1. [`Life::create`] applies a configuration; the resource must be in state and a second plan
//!    must be empty.
//! 2. The test checks AWS through the SDK (its own async code).
//! 3. [`Life::import_verify`] imports the object into a fresh workspace holding the same
//!    configuration and compares the imported state with the applied one attribute by
//!    attribute; then that workspace's plan must be empty too.
//! 4. [`Life::update`] changes the configuration: the plan must show exactly the expected
//!    actions for the resource, apply must pass, and the next plan must be empty.
//! 5. [`Life::destroy`] destroys; nothing is left in state. The test then checks AWS again.

use crate::{Emulator, Terraform, Workspace};
use serde_json::Value;

/// One resource's life in one workspace.
pub struct Life {
    tf: &'static Terraform,
    endpoint: String,
    ws: Workspace,
    address: String,
    hcl: String,
}

impl Life {
    /// Applies `hcl` in a new workspace against `emulator`; `address` is the resource under
    /// test. Panics unless the resource is in state and the next plan is empty.
    pub fn create(tf: &'static Terraform, emulator: &Emulator, address: &str, hcl: &str) -> Life {
        let ws = Workspace::new(tf, emulator, hcl);
        let life = Life {
            tf,
            endpoint: emulator.endpoint().to_string(),
            ws,
            address: address.to_string(),
            hcl: hcl.to_string(),
        };
        life.ws.apply();
        life.settled();
        life
    }

    /// The workspace, for what the steps do not cover.
    pub fn workspace(&self) -> &Workspace {
        &self.ws
    }

    /// The resource's attributes in state.
    pub fn state(&self) -> Value {
        self.ws
            .state_resource(&self.address)
            .unwrap_or_else(|| panic!("{} is not in state", self.address))
    }

    /// Changes the configuration to `hcl`. Panics unless the plan shows exactly `actions` for
    /// the resource (`["update"]`, `["delete", "create"]`...), apply passes and the next plan
    /// is empty.
    pub fn update(&mut self, hcl: &str, actions: &[&str]) {
        self.ws.write_main(hcl);
        self.hcl = hcl.to_string();
        assert_eq!(
            self.ws.resource_change_actions(&self.address),
            actions,
            "the plan for {} after the configuration changed",
            self.address
        );
        self.ws.apply();
        self.settled();
    }

    /// Imports the object as `id` into a fresh workspace with the same configuration. Panics
    /// unless every attribute of the imported state equals the applied state's, except those
    /// in `ignore` (attributes that live only in configuration), and unless the plan after the
    /// import is empty.
    pub fn import_verify(&self, id: &str, ignore: &[&str]) {
        let fresh = Workspace::with_endpoint(self.tf, &self.endpoint, &self.hcl);
        fresh.import(&self.address, id);
        let imported = fresh
            .state_resource(&self.address)
            .unwrap_or_else(|| panic!("import of {id} left no {}", self.address));
        let applied = self.state();
        let differences = differences(&applied, &imported, ignore);
        assert!(
            differences.is_empty(),
            "import of {id} differs from the applied state:\n{}",
            differences.join("\n")
        );
        let out = fresh.tf(&["plan", "-input=false", "-detailed-exitcode"]);
        assert!(
            out.code == 0,
            "the plan after import of {id} is not empty:\n{out}"
        );
    }

    /// Destroys everything; panics unless the state is empty afterwards.
    pub fn destroy(self) {
        self.ws.destroy();
        assert!(
            self.ws.state_resource(&self.address).is_none(),
            "{} is still in state after destroy",
            self.address
        );
    }

    fn settled(&self) {
        assert!(
            self.ws.state_resource(&self.address).is_some(),
            "{} is not in state after apply",
            self.address
        );
        self.ws.assert_plan_empty();
    }
}

/// The attributes of `a` and `b` (state objects) that differ, `ignore` left out, as lines.
pub fn differences(a: &Value, b: &Value, ignore: &[&str]) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (a, b) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !ignore.contains(&k.as_str()))
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            format!(
                "  {k}: applied {} / imported {}",
                a.get(k).unwrap_or(&Value::Null),
                b.get(k).unwrap_or(&Value::Null)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_name_each_attribute_that_differs_except_the_ignored() {
        let applied = json!({"id": "a", "values": ["x"], "force_destroy": true});
        let imported = json!({"id": "a", "values": ["y"], "force_destroy": false});
        assert_eq!(
            differences(&applied, &imported, &["force_destroy"]),
            vec![r#"  values: applied ["x"] / imported ["y"]"#.to_string()]
        );
        assert!(differences(&applied, &applied, &[]).is_empty());
        // An attribute only one side has counts.
        let fewer = json!({"id": "a"});
        assert_eq!(differences(&applied, &fewer, &["force_destroy"]).len(), 1);
    }
}
