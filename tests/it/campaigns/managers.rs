//! The manager mapping: a bad upload changes nothing, a good one reports what it changed.

use serde_json::json;

use super::{call, count, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_manager_mapping_changes_nothing() {
    let (app, ada) = setup().await;
    let audit_before = count(&app, "SELECT COUNT(*) FROM audit_events").await;
    let result = call(
        &ada,
        "/api/managers_import",
        &json!({
            "file_name": "m.csv",
            "csv": "user_email,manager_email\nchloe@example.com,chloe@example.com\nx,y@example.com\n"
        }),
    )
    .await;
    let errors = result["Rejected"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{result}");
    assert_eq!(errors[0]["line"], 2);
    assert_eq!(errors[1]["column"], "user_email");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM manager_mappings").await,
        3
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_events").await,
        audit_before
    );

    let result = call(
        &ada,
        "/api/managers_import",
        &json!({ "file_name": "m.csv", "csv": "user_email,manager_email\nchloe@example.com,manny.manager@example.com\nzed@example.com,rita.reviewer@example.com\n" }),
    )
    .await;
    assert_eq!(
        result["Imported"],
        json!({ "rows": 2, "added": 1, "removed": 2, "changed": 1, "not_in_inventory": 1 })
    );
}
