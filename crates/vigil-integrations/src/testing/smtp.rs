//! A fake SMTP server: EHLO/HELO, optional AUTH PLAIN/LOGIN, MAIL, RCPT,
//! DATA, RSET, NOOP, QUIT, in plain text. Records each message with its
//! envelope; commands out of order get 503, a wrong password 535.
//! [`Failure::Status`] answers the next `MAIL FROM` with that reply code.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{Failure, Failures, HANG, lock};
use crate::{Secret, SmtpConfig, SmtpSecurity};

/// A message [`FakeSmtp`] accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM`).
    pub from: String,
    /// Envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message (headers and body) with dot-stuffing undone.
    pub data: String,
    /// The user that authenticated, if any.
    pub user: Option<String>,
}

/// The credentials a fake wants.
type Login = Option<(String, String)>;

/// A fake SMTP server on 127.0.0.1.
pub struct FakeSmtp {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    failures: Arc<Failures>,
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
    login: Login,
}

impl FakeSmtp {
    /// A server accepting mail without authentication.
    pub fn start() -> FakeSmtp {
        Self::start_inner(None)
    }

    /// A server that wants AUTH with `user` and `password` before MAIL.
    pub fn start_with_login(user: &str, password: &str) -> FakeSmtp {
        Self::start_inner(Some((user.to_owned(), password.to_owned())))
    }

    fn start_inner(login: Login) -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("fake smtp: bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("fake smtp: local address: {e}"));
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(Failures::default());
        let mails = Arc::new(Mutex::new(Vec::new()));
        let (stop2, failures2, mails2, login2) = (stop.clone(), failures.clone(), mails.clone(), login.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (failures, mails, login) = (failures2.clone(), mails2.clone(), login2.clone());
                thread::spawn(move || {
                    let _ = session(stream, &failures, &mails, &login);
                });
            }
        });
        FakeSmtp { addr, stop, failures, mails, login }
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A plain-text configuration for this server (with its credentials, if any).
    pub fn config(&self) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.port(),
            security: SmtpSecurity::None,
            username: self.login.as_ref().map(|(user, _)| user.clone()),
            password: self.login.as_ref().map(|(_, password)| Secret::new(password.clone())),
            from: "Vigil <vigil@example.com>".into(),
            timeout_secs: 2,
        }
    }

    /// Messages accepted, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        lock(&self.mails).clone()
    }

    /// Makes the next transaction fail (queued: call again for more).
    pub fn fail_next(&self, failure: Failure) {
        self.failures.push(failure);
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// The address inside `<...>` of `MAIL FROM:<a>` / `RCPT TO:<a>`.
fn angle(argument: &str) -> Option<String> {
    let start = argument.find('<')?;
    let end = argument[start..].find('>')? + start;
    Some(argument[start + 1..end].to_owned())
}

fn session(
    stream: TcpStream,
    failures: &Failures,
    mails: &Mutex<Vec<ReceivedMail>>,
    login: &Login,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut reply = |text: &str| writer.write_all(format!("{text}\r\n").as_bytes());
    reply("220 fake-smtp ESMTP ready")?;
    let (mut greeted, mut user, mut from, mut to): (bool, Option<String>, Option<String>, Vec<String>) =
        (false, None, None, Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let (verb, argument) = command.split_once(' ').unwrap_or((&command, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" if !argument.is_empty() => {
                greeted = true;
                reply("250-fake-smtp")?;
                reply("250-8BITMIME")?;
                if login.is_some() {
                    reply("250-AUTH PLAIN LOGIN")?;
                }
                reply("250 SIZE 10485760")?;
            }
            "HELO" if !argument.is_empty() => {
                greeted = true;
                reply("250 fake-smtp")?;
            }
            "AUTH" if greeted && login.is_some() => {
                let mut words = argument.split_whitespace();
                let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
                let decode = |text: &str| BASE64.decode(text.trim()).ok().and_then(|b| String::from_utf8(b).ok());
                let given = match mechanism.as_str() {
                    "PLAIN" => {
                        let initial = match words.next() {
                            Some(initial) => initial.to_owned(),
                            None => {
                                reply("334 ")?;
                                let mut response = String::new();
                                reader.read_line(&mut response)?;
                                response
                            }
                        };
                        decode(&initial).and_then(|plain| {
                            let mut parts = plain.split('\0');
                            let _authzid = parts.next()?;
                            Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
                        })
                    }
                    "LOGIN" => {
                        let mut ask = |prompt: &str| -> std::io::Result<Option<String>> {
                            reply(&format!("334 {}", BASE64.encode(prompt)))?;
                            let mut response = String::new();
                            reader.read_line(&mut response)?;
                            Ok(decode(&response))
                        };
                        let name = match words.next() {
                            Some(initial) => decode(initial),
                            None => ask("Username:")?,
                        };
                        let password = ask("Password:")?;
                        name.zip(password)
                    }
                    _ => None,
                };
                match (given, login) {
                    (Some(given), Some(wanted)) if &given == wanted => {
                        user = Some(given.0);
                        reply("235 2.7.0 Authentication successful")?;
                    }
                    _ => reply("535 5.7.8 Authentication credentials invalid")?,
                }
            }
            "MAIL" if greeted && (login.is_none() || user.is_some()) => match failures.pop() {
                Some(Failure::Status(code)) => reply(&format!("{code} injected failure"))?,
                Some(Failure::RateLimit { .. }) => reply("421 4.7.0 too many messages, slow down")?,
                Some(Failure::Timeout) => {
                    thread::sleep(HANG);
                    return Ok(());
                }
                None => match angle(argument) {
                    Some(address) => {
                        from = Some(address);
                        to.clear();
                        reply("250 2.1.0 OK")?;
                    }
                    None => reply("501 5.5.4 syntax: MAIL FROM:<address>")?,
                },
            },
            "MAIL" if greeted => reply("530 5.7.0 Authentication required")?,
            "RCPT" if from.is_some() => match angle(argument).filter(|a| a.contains('@')) {
                Some(address) => {
                    to.push(address);
                    reply("250 2.1.5 OK")?;
                }
                None => reply("501 5.1.3 bad recipient address")?,
            },
            "DATA" if from.is_some() && !to.is_empty() => {
                reply("354 end data with <CR><LF>.<CR><LF>")?;
                let mut data = String::new();
                loop {
                    let mut text = String::new();
                    if reader.read_line(&mut text)? == 0 {
                        return Ok(());
                    }
                    if text == ".\r\n" || text == ".\n" {
                        break;
                    }
                    data.push_str(text.strip_prefix('.').unwrap_or(&text));
                    if data.len() > super::MAX_BODY {
                        reply("552 5.3.4 message too big")?;
                        return Ok(());
                    }
                }
                let envelope_from = from.take().unwrap_or_default();
                lock(mails).push(ReceivedMail {
                    from: envelope_from,
                    to: std::mem::take(&mut to),
                    data,
                    user: user.clone(),
                });
                reply("250 2.0.0 queued")?;
            }
            "RSET" => {
                from = None;
                to.clear();
                reply("250 OK")?;
            }
            "NOOP" => reply("250 OK")?,
            "QUIT" => {
                reply("221 bye")?;
                return Ok(());
            }
            _ => reply("503 5.5.1 bad sequence of commands")?,
        }
    }
}
