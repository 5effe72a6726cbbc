//! Terraform (`*.tf`), read with `hcl-edit` (which keeps byte spans, so
//! every issue names the line of the offending attribute or of the block
//! lacking one). AWS resources: public S3 ACLs, security groups open to the
//! world on SSH, RDP or every port, unencrypted EBS volumes, instance root
//! disks and RDS storage, public RDS instances, instances allowing IMDSv1,
//! and keys written into the provider. Values Terraform computes (variables,
//! references, functions) are not guessed at: only literals decide.

use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, BlockLabel, Body};

use super::Hit;
use crate::files::line_of;

/// `*.tf` files.
pub(super) fn matches(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".tf")
}

/// A block's labels as text.
fn labels(block: &Block) -> Vec<&str> {
    block
        .labels
        .iter()
        .map(|l| match l {
            BlockLabel::Ident(i) => i.as_str(),
            BlockLabel::String(s) => s.as_str(),
        })
        .collect()
}

/// The literal text of an expression (strings, numbers, booleans), `None` for computed ones.
fn literal(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.value().clone()),
        Expression::Bool(b) => Some(b.value().to_string()),
        Expression::Number(n) => Some(n.value().to_string()),
        _ => None,
    }
}

/// The literal strings of an array attribute.
fn strings(expr: &Expression) -> Vec<String> {
    expr.as_array().map(|a| a.iter().filter_map(literal).collect()).unwrap_or_default()
}

/// The literal number of an attribute, if it is one.
fn number(body: &Body, key: &str) -> Option<f64> {
    body.get_attribute(key).and_then(|a| literal(&a.value)).and_then(|v| v.parse().ok())
}

/// An ingress rule's shape: ports, protocol, sources.
struct Ingress<'a> {
    from: Option<f64>,
    to: Option<f64>,
    protocol: Option<String>,
    sources: Vec<String>,
    at: &'a dyn Span,
}

/// Checks a Terraform file; `None` when it does not parse as HCL with blocks.
pub(super) fn check(text: &str) -> Result<Option<Vec<Hit>>, String> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| e.to_string())?;
    let line = |s: &dyn Span| s.span().map_or(1, |r| line_of(text, r.start));
    let mut hits = Vec::new();
    let mut any = false;
    for block in body.blocks() {
        let names = labels(block);
        let attr = |key: &str| block.body.get_attribute(key);
        let value = |key: &str| attr(key).and_then(|a| literal(&a.value));
        let mut hit = |rule: &'static str, at: &dyn Span, detail: String| {
            let key = if names.len() >= 2 { format!("{}.{}", names[0], names[1]) } else { names.join(".") };
            hits.push(Hit { rule, line: line(at), key: Some(key), detail });
        };
        match (block.ident.as_str(), names.first().copied()) {
            ("provider", Some("aws")) => {
                any = true;
                for key in ["access_key", "secret_key"] {
                    if let Some(a) = attr(key).filter(|a| literal(&a.value).is_some_and(|v| !v.is_empty())) {
                        hit("TF-AWS-HARDCODED-KEY", a, format!("provider aws {key} = ****"));
                    }
                }
            }
            ("resource", Some(kind)) => {
                any = true;
                match kind {
                    "aws_s3_bucket" | "aws_s3_bucket_acl" => {
                        if let Some(a) = attr("acl")
                            && let Some(acl) = literal(&a.value).filter(|v| {
                                matches!(v.as_str(), "public-read" | "public-read-write" | "authenticated-read")
                            })
                        {
                            hit("TF-S3-PUBLIC-ACL", a, format!("acl = \"{acl}\""));
                        }
                    }
                    "aws_security_group" => {
                        for rule in block.body.get_blocks("ingress") {
                            let ingress = Ingress {
                                from: number(&rule.body, "from_port"),
                                to: number(&rule.body, "to_port"),
                                protocol: rule.body.get_attribute("protocol").and_then(|a| literal(&a.value)),
                                sources: ["cidr_blocks", "ipv6_cidr_blocks"]
                                    .iter()
                                    .filter_map(|k| rule.body.get_attribute(k))
                                    .flat_map(|a| strings(&a.value))
                                    .collect(),
                                at: rule,
                            };
                            open_ingress(&ingress, &mut hit);
                        }
                    }
                    "aws_security_group_rule" if value("type").as_deref() == Some("ingress") => {
                        let ingress = Ingress {
                            from: number(&block.body, "from_port"),
                            to: number(&block.body, "to_port"),
                            protocol: value("protocol"),
                            sources: ["cidr_blocks", "ipv6_cidr_blocks"]
                                .iter()
                                .filter_map(|k| attr(k))
                                .flat_map(|a| strings(&a.value))
                                .collect(),
                            at: block,
                        };
                        open_ingress(&ingress, &mut hit);
                    }
                    "aws_ebs_volume" => unencrypted(block, "encrypted", "TF-EBS-UNENCRYPTED", &mut hit),
                    "aws_db_instance" => {
                        unencrypted(block, "storage_encrypted", "TF-RDS-UNENCRYPTED", &mut hit);
                        if let Some(a) =
                            attr("publicly_accessible").filter(|a| literal(&a.value).as_deref() == Some("true"))
                        {
                            hit("TF-RDS-PUBLIC", a, "publicly_accessible = true".into());
                        }
                    }
                    "aws_instance" => {
                        match block.body.get_blocks("root_block_device").next() {
                            Some(root) => unencrypted(root, "encrypted", "TF-INSTANCE-ROOT-UNENCRYPTED", &mut hit),
                            None => hit(
                                "TF-INSTANCE-ROOT-UNENCRYPTED",
                                block,
                                "no root_block_device with encrypted = true".into(),
                            ),
                        }
                        let tokens = block
                            .body
                            .get_blocks("metadata_options")
                            .next()
                            .and_then(|m| m.body.get_attribute("http_tokens"))
                            .map(|a| (literal(&a.value), a));
                        match tokens {
                            Some((Some(v), _)) if v == "required" => {}
                            Some((None, _)) => {}
                            Some((Some(v), a)) => hit("TF-INSTANCE-IMDSV1", a, format!("http_tokens = \"{v}\"")),
                            None => hit(
                                "TF-INSTANCE-IMDSV1",
                                block,
                                "no metadata_options { http_tokens = \"required\" }".into(),
                            ),
                        }
                    }
                    _ => {}
                }
            }
            _ => {
                any |=
                    matches!(block.ident.as_str(), "terraform" | "module" | "variable" | "data" | "output" | "locals")
            }
        }
    }
    hits.sort_by_key(|h| h.line);
    Ok(any.then_some(hits))
}

/// An encryption flag that is missing or a literal false.
fn unencrypted(block: &Block, key: &str, rule: &'static str, hit: &mut dyn FnMut(&'static str, &dyn Span, String)) {
    match block.body.get_attribute(key) {
        Some(a) => {
            if literal(&a.value).as_deref() == Some("false") {
                hit(rule, a, format!("{key} = false"));
            }
        }
        None => hit(rule, block, format!("no {key} = true")),
    }
}

/// Ingress from anywhere to SSH, RDP or every port.
fn open_ingress(rule: &Ingress<'_>, hit: &mut dyn FnMut(&'static str, &dyn Span, String)) {
    let world: Vec<&String> = rule.sources.iter().filter(|s| *s == "0.0.0.0/0" || *s == "::/0").collect();
    let Some(source) = world.first() else { return };
    let all_protocols = rule.protocol.as_deref() == Some("-1") || rule.protocol.as_deref() == Some("all");
    let (from, to) = (rule.from.unwrap_or(0.0), rule.to.unwrap_or(65535.0));
    let covers = |port: f64| all_protocols || (from <= port && port <= to);
    if all_protocols || (from <= 0.0 && to >= 65535.0) {
        hit("TF-SG-OPEN-ALL", rule.at, format!("every port open to {source}"));
        return;
    }
    if covers(22.0) {
        hit("TF-SG-OPEN-SSH", rule.at, format!("ports {from}-{to} open to {source}"));
    }
    if covers(3389.0) {
        hit("TF-SG-OPEN-RDP", rule.at, format!("ports {from}-{to} open to {source}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_resources() {
        let text = r#"
provider "aws" {
  region     = "eu-west-1"
  access_key = "AKIAZZZZZZZZZZZZZZZZ"
}
resource "aws_s3_bucket" "logs" {
  bucket = "logs"
  acl    = "public-read"
}
resource "aws_security_group" "web" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_ebs_volume" "data" {
  size      = 10
  encrypted = var.encrypt
}
resource "aws_db_instance" "db" {
  publicly_accessible = true
  storage_encrypted   = false
}
"#;
        let hits = check(text).unwrap().unwrap();
        let found: Vec<(&str, u32)> = hits.iter().map(|h| (h.rule, h.line)).collect();
        assert_eq!(
            found,
            [
                ("TF-AWS-HARDCODED-KEY", 4),
                ("TF-S3-PUBLIC-ACL", 8),
                ("TF-SG-OPEN-SSH", 11),
                ("TF-RDS-PUBLIC", 29),
                ("TF-RDS-UNENCRYPTED", 30),
            ]
        );
        assert!(!hits[0].detail.contains("AKIA"));
        assert!(check("not = [hcl").is_err());
        assert_eq!(check("x = 1\n").unwrap(), None);
    }
}
