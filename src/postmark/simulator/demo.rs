//! The simulator's demo account: fifteen plausible servers.

use super::Simulator;
use crate::postmark::ServerInfo;

/// The demo server whose token sends review emails (its sent emails form the demo's Inbox).
pub const DEMO_MAIL_SERVER: i64 = 10_001;

impl Simulator {
    /// The demo's account: 15 servers with mixed settings, activity and webhooks.
    pub fn seed_demo_account(&self) {
        let servers: [(&str, bool, Option<&str>, usize, i64); 15] = [
            (
                "Transactional — production",
                true,
                Some("https://hooks.example.com/postmark/bounce"),
                2,
                48_211,
            ),
            ("Transactional — staging", true, None, 1, 312),
            (
                "Marketing newsletters",
                false,
                Some("https://hooks.example.com/postmark/open"),
                1,
                120_450,
            ),
            ("Password resets", true, None, 1, 9_870),
            (
                "Billing receipts",
                true,
                Some("https://billing.example.com/webhooks/postmark"),
                1,
                4_410,
            ),
            (
                "Support inbox (inbound)",
                false,
                Some("https://helpdesk.example.net/inbound"),
                1,
                0,
            ),
            ("Legacy app 2019", true, None, 3, 0),
            (
                "Onboarding drip",
                false,
                Some("https://hooks.example.com/postmark/click"),
                1,
                15_302,
            ),
            ("Security alerts", true, None, 1, 1_204),
            (
                "Partner notifications",
                true,
                Some("https://webhook.site/2f1c9d"),
                1,
                87,
            ),
            ("Internal reports", true, None, 1, 640),
            (
                "Hackathon test",
                true,
                Some("https://requestbin.example.org/abc"),
                2,
                0,
            ),
            ("Mobile push fallback", false, None, 1, 22_870),
            ("Status page", true, None, 1, 3_115),
            (
                "EU customers",
                true,
                Some("https://hooks.example.com/postmark/delivery"),
                1,
                18_440,
            ),
        ];
        for (i, (name, smtp, hook, tokens, sent)) in servers.into_iter().enumerate() {
            let id = 10_001 + i as i64;
            let tokens: Vec<String> = (0..tokens)
                .map(|n| format!("{:08x}-demo-{id}-{n}", id * 7919 + n as i64))
                .collect();
            let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
            let mut server = ServerInfo::sample(id, name, &refs);
            server.smtp_api_activated = smtp;
            server.bounce_hook_url = hook.map(str::to_string);
            server.color = Some(["Purple", "Blue", "Green", "Red", "Orange"][i % 5].to_string());
            self.add_server(server);
            // The activity of one server cannot be read: its signal shows as unknown.
            if name != "Internal reports" {
                self.set_sent(id, sent);
            } else {
                self.fail_stats_for(id);
            }
        }
    }

    /// Makes `GET /stats/outbound` fail for one server.
    pub fn fail_stats_for(&self, server_id: i64) {
        self.inner
            .failing_stats
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(server_id);
    }
}

// Used by tests and the demo to build plausible servers.
impl ServerInfo {
    /// A server with defaults for everything but id, name and tokens.
    pub fn sample(id: i64, name: &str, tokens: &[&str]) -> Self {
        Self {
            id,
            name: name.to_string(),
            api_tokens: tokens.iter().map(|t| t.to_string()).collect(),
            server_link: Some(format!(
                "https://account.postmarkapp.com/servers/{id}/streams"
            )),
            color: Some("Blue".to_string()),
            smtp_api_activated: true,
            raw_email_enabled: false,
            delivery_hook_url: None,
            inbound_address: Some(format!("{id}@inbound.postmarkapp.com")),
            inbound_hook_url: None,
            bounce_hook_url: None,
            open_hook_url: None,
            post_first_open_only: false,
            track_opens: false,
            track_links: Some("None".to_string()),
            click_hook_url: None,
            inbound_domain: None,
            inbound_hash: Some(format!("hash{id}")),
            inbound_spam_threshold: Some(0),
        }
    }
}
