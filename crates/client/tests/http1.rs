//! The raw HTTP/1.1 runner against scripted loopback servers, and properties of the parser.

use std::time::{Duration, Instant};

use corsproof_client::Error;
use corsproof_client::{
    parse_response, parse_response_with, Client, Config, Connection, Limits, ParseError,
    RawResponse, Request, ResponseContext,
};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Reads one request head (through the blank line) from `s`, bounded in size and time.
async fn read_head(s: &mut TcpStream, pending: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut chunk = [0u8; 4096];
    for _ in 0..64 {
        if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = pending.drain(..i + 4).collect();
            return Some(head);
        }
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        pending.extend_from_slice(&chunk[..n]);
    }
    None
}

/// A server accepting `connections` connections; for each it reads one request at a time and
/// writes the next scripted answer, forwarding each request head on the channel. An answer
/// of `None` closes the connection without answering.
async fn scripted(
    connections: Vec<Vec<Option<Vec<u8>>>>,
) -> (String, mpsc::UnboundedReceiver<(usize, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for (i, answers) in connections.into_iter().enumerate() {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut pending = Vec::new();
            for answer in answers {
                let Some(head) = read_head(&mut s, &mut pending).await else {
                    break;
                };
                let _ = tx.send((i, head));
                match answer {
                    Some(bytes) => {
                        let _ = s.write_all(&bytes).await;
                    }
                    None => break,
                }
            }
        }
    });
    (addr, rx)
}

fn client(addr: &str, ms: u64) -> Client {
    Client::new(addr).with_timeout(Duration::from_millis(ms))
}

fn get(target: &str) -> Request {
    Request::new("GET", target)
}

#[tokio::test]
async fn duplicate_header_lines_are_kept_in_order_with_their_case() {
    let wire = b"HTTP/1.1 200 OK\r\n\
        Access-Control-Allow-Origin: https://a.test\r\n\
        Vary: Origin\r\n\
        access-control-allow-origin:\t* \t\r\n\
        X-Empty:\r\n\
        Content-Length: 5\r\n\r\nhello";
    let (addr, mut rx) = scripted(vec![vec![Some(wire.to_vec())]]).await;
    let req = get("/api?x=1")
        .header("Origin", "https://a.test")
        .header("X-Dup", "1")
        .header("x-dup", "2");
    let res = client(&addr, 2000).send(&req).await.unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.reason, b"OK");
    let expected: Vec<(Vec<u8>, Vec<u8>)> = [
        ("Access-Control-Allow-Origin", "https://a.test"),
        ("Vary", "Origin"),
        ("access-control-allow-origin", "*"),
        ("X-Empty", ""),
        ("Content-Length", "5"),
    ]
    .iter()
    .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
    .collect();
    assert_eq!(res.headers, expected);
    assert_eq!(res.body, b"hello");
    let (_, head) = rx.recv().await.unwrap();
    let expected_req = format!(
        "GET /api?x=1 HTTP/1.1\r\nOrigin: https://a.test\r\nX-Dup: 1\r\nx-dup: 2\r\n\
         Host: {addr}\r\nConnection: keep-alive\r\n\r\n"
    );
    assert_eq!(String::from_utf8(head).unwrap(), expected_req);
}

#[tokio::test]
async fn chunked_body_arriving_in_pieces_is_decoded() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let _ = read_head(&mut s, &mut Vec::new()).await;
        let pieces: [&[u8]; 5] = [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nVa",
            b"ry: Origin\r\n\r\n5;ext=1\r\nhel",
            b"lo\r\n6\r\n world\r",
            b"\n0\r\nX-Trailer: a\r\n",
            b"\r\n",
        ];
        for p in pieces {
            let _ = s.write_all(p).await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let res = client(&addr, 2000).send(&get("/")).await.unwrap();
    assert_eq!(res.body, b"hello world");
    assert_eq!(res.header(b"vary"), Some(&b"Origin"[..]));
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_arriving_in_pieces_is_read() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let _ = read_head(&mut s, &mut Vec::new()).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n")
            .await;
        for i in 0..16u8 {
            let _ = s.write_all(&[i; 65536]).await;
        }
    });
    let res = client(&addr, 5000).send(&get("/")).await.unwrap();
    assert_eq!(res.body.len(), 1 << 20);
    assert!(res.body[..65536].iter().all(|&b| b == 0) && res.body[(1 << 20) - 1] == 15);
}

#[tokio::test]
async fn keep_alive_carries_two_requests_on_one_connection() {
    let a = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na".to_vec();
    let b = b"HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb".to_vec();
    let (addr, mut rx) = scripted(vec![vec![Some(a.clone()), Some(b.clone())]]).await;
    let mut conn = Connection::connect(&addr, Config::default()).await.unwrap();
    assert_eq!(conn.send(&get("/one")).await.unwrap().body, b"a");
    assert!(conn.is_reusable());
    let second = conn.send(&get("/two")).await.unwrap();
    assert_eq!((second.status, &second.body[..]), (404, &b"b"[..]));
    assert_eq!(conn.responses_read(), 2);
    assert_eq!(rx.recv().await.unwrap().0, 0);
    assert_eq!(
        rx.recv().await.unwrap().0,
        0,
        "second request on the first connection"
    );

    // The same through the client.
    let (addr, mut rx) = scripted(vec![vec![Some(a), Some(b)]]).await;
    let mut c = client(&addr, 2000);
    assert_eq!(c.send(&get("/one")).await.unwrap().status, 200);
    assert_eq!(c.send(&get("/two")).await.unwrap().status, 404);
    assert_eq!(rx.recv().await.unwrap().0, 0);
    assert_eq!(rx.recv().await.unwrap().0, 0);
}

#[tokio::test]
async fn client_reconnects_once_when_the_kept_alive_connection_was_closed() {
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec();
    // First connection: one answer, then the server closes it without answering the second.
    let (addr, mut rx) = scripted(vec![vec![Some(ok.clone()), None], vec![Some(ok)]]).await;
    let mut c = client(&addr, 2000);
    c.send(&get("/a")).await.unwrap();
    c.send(&get("/b")).await.unwrap();
    let seen: Vec<usize> = [rx.recv().await, rx.recv().await, rx.recv().await]
        .into_iter()
        .map(|m| m.unwrap().0)
        .collect();
    assert_eq!(seen, [0, 0, 1], "retried on a second connection");

    // A POST is not retried.
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec();
    let (addr, _rx) = scripted(vec![vec![Some(ok), None]]).await;
    let mut c = client(&addr, 2000);
    c.send(&get("/a")).await.unwrap();
    let err = c
        .send(&Request::new("POST", "/b").body("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Closed { during: "response" }), "{err}");
}

#[tokio::test]
async fn connection_close_and_read_until_close() {
    let wire = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it".to_vec();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let _ = read_head(&mut s, &mut Vec::new()).await;
        let _ = s.write_all(&wire).await;
    });
    let mut conn = Connection::connect(&addr, Config::default()).await.unwrap();
    let res = conn.send(&get("/")).await.unwrap();
    assert_eq!(res.body, b"all of it");
    assert!(!conn.is_reusable());
    let err = conn.send(&get("/")).await.unwrap_err();
    assert!(matches!(err, Error::Closed { during: "request" }), "{err}");
}

#[tokio::test]
async fn a_hanging_server_times_out_within_the_configured_time() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(s);
    });
    let start = Instant::now();
    let err = client(&addr, 300).send(&get("/")).await.unwrap_err();
    let took = start.elapsed();
    assert!(
        matches!(err, Error::Timeout(d) if d == Duration::from_millis(300)),
        "{err}"
    );
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_server_closing_mid_headers_is_reported_as_closed() {
    let (addr, _rx) = scripted(vec![vec![Some(b"HTTP/1.1 200 OK\r\nVary: Or".to_vec())]]).await;
    let err = client(&addr, 2000).send(&get("/")).await.unwrap_err();
    assert!(matches!(err, Error::Closed { during: "headers" }), "{err}");

    let short = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec();
    let (addr, _rx) = scripted(vec![vec![Some(short)]]).await;
    let err = client(&addr, 2000).send(&get("/")).await.unwrap_err();
    assert!(matches!(err, Error::Closed { during: "body" }), "{err}");

    let (addr, _rx) = scripted(vec![vec![None]]).await;
    let err = client(&addr, 2000).send(&get("/")).await.unwrap_err();
    assert!(matches!(err, Error::Closed { during: "response" }), "{err}");
}

#[tokio::test]
async fn garbage_is_malformed_at_once_even_while_the_server_keeps_the_connection_open() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let _ = read_head(&mut s, &mut Vec::new()).await;
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\xff\x00").await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let start = Instant::now();
    let err = client(&addr, 3000).send(&get("/")).await.unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1));
    match err {
        Error::Malformed { what } => assert!(what.contains("status line"), "{what}"),
        other => panic!("{other}"),
    }

    for bad in [
        &b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ] {
        let (addr, _rx) = scripted(vec![vec![Some(bad.to_vec())]]).await;
        let err = client(&addr, 2000).send(&get("/")).await.unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
    }
}

#[tokio::test]
async fn a_one_mebibyte_header_is_too_large_quickly() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let _ = read_head(&mut s, &mut Vec::new()).await;
        let mut wire = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
        wire.resize(wire.len() + (1 << 20), b'a');
        wire.extend_from_slice(b"\r\n\r\n");
        let _ = s.write_all(&wire).await;
    });
    let start = Instant::now();
    let err = client(&addr, 5000).send(&get("/")).await.unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert!(
        matches!(
            err,
            Error::TooLarge {
                what: "header section",
                limit: 65536
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn body_limits_are_enforced() {
    let big = b"HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n".to_vec();
    let (addr, _rx) = scripted(vec![vec![Some(big)]]).await;
    let err = client(&addr, 2000).send(&get("/")).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                what: "body",
                limit: 1048576
            }
        ),
        "{err}"
    );

    let small = Limits {
        max_body: 4,
        ..Limits::default()
    };
    let chunked =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
    let (addr, _rx) = scripted(vec![vec![Some(chunked.to_vec())]]).await;
    let err = client(&addr, 2000)
        .with_limits(small)
        .send(&get("/"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                what: "body",
                limit: 4
            }
        ),
        "{err}"
    );

    let many: String = (0..300).map(|i| format!("X-{i}: v\r\n")).collect();
    let wire = format!("HTTP/1.1 200 OK\r\n{many}\r\n").into_bytes();
    let (addr, _rx) = scripted(vec![vec![Some(wire)]]).await;
    let err = client(&addr, 2000).send(&get("/")).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                what: "header count",
                limit: 256
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn interim_responses_are_skipped() {
    let wire = b"HTTP/1.1 100 Continue\r\n\r\n\
        HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n\
        HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        .to_vec();
    let ok = b"HTTP/1.1 204 No Content\r\n\r\n".to_vec();
    let (addr, mut rx) = scripted(vec![vec![Some(wire), Some(ok)]]).await;
    let mut c = client(&addr, 2000);
    let res = c.send(&Request::new("PUT", "/x").body("{}")).await.unwrap();
    assert_eq!((res.status, &res.body[..]), (200, &b"ok"[..]));
    assert!(res.header(b"link").is_none());
    assert_eq!(c.send(&get("/y")).await.unwrap().status, 204);
    let (_, head) = rx.recv().await.unwrap();
    assert!(
        head.ends_with(b"Content-Length: 2\r\n\r\n"),
        "{}",
        head.escape_ascii()
    );
    assert_eq!(
        rx.recv().await.unwrap().0,
        0,
        "kept alive after 1xx and 204"
    );
}

#[tokio::test]
async fn head_response_with_content_length_has_no_body() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nVary: Origin\r\n\r\n".to_vec();
    let next = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc".to_vec();
    let (addr, mut rx) = scripted(vec![vec![Some(head), Some(next)]]).await;
    let mut c = client(&addr, 2000);
    let res = c.send(&Request::new("HEAD", "/")).await.unwrap();
    assert_eq!(res.header(b"content-length"), Some(&b"1234"[..]));
    assert!(res.body.is_empty());
    assert_eq!(c.send(&get("/")).await.unwrap().body, b"abc");
    assert_eq!(rx.recv().await.unwrap().0, 0);
    assert_eq!(rx.recv().await.unwrap().0, 0);
}

#[tokio::test]
async fn invalid_requests_and_unreachable_targets_are_errors() {
    let mut c = client("127.0.0.1:9", 2000);
    for req in [
        Request::new("GET", "/a b"),
        Request::new("G T", "/"),
        get("/").header("X-Bad", "a\r\nInjected: 1"),
        get("/").header("Bad Name", "v"),
    ] {
        let err = c.send(&req).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest { .. } | Error::Io(_)),
            "{err}"
        );
    }
    let mut out = Vec::new();
    let err = get("/")
        .header("X", "a\nb")
        .encode(b"h", &mut out)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }));
    assert!(out.is_empty());

    // Nothing listens on a port we bound and released.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let err = client(&addr, 2000).send(&get("/")).await.unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err}");
}

#[test]
fn every_prefix_of_a_response_is_incomplete() {
    let wire = b"HTTP/1.1 200 OK\r\nA: 1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: x\r\n\r\n";
    for n in 0..wire.len() {
        assert_eq!(
            parse_response(&wire[..n], Limits::default()),
            Err(ParseError::Incomplete),
            "{n}"
        );
    }
    let (res, used) = parse_response(wire, Limits::default()).unwrap();
    assert_eq!((used, &res.body[..]), (wire.len(), &b"abc"[..]));

    // A body delimited by the close is complete only at end of stream.
    let wire = b"HTTP/1.0 200 OK\r\n\r\nbody";
    assert_eq!(
        parse_response(wire, Limits::default()),
        Err(ParseError::Incomplete)
    );
    let eof = ResponseContext {
        head_request: false,
        eof: true,
    };
    let (res, used) = parse_response_with(wire, Limits::default(), eof).unwrap();
    assert_eq!((used, &res.body[..]), (wire.len(), &b"body"[..]));
}

/// A well-formed response and its wire form.
fn response() -> impl Strategy<Value = (RawResponse, Vec<u8>)> {
    let status = prop_oneof![200u16..204, 205u16..304, 305u16..600];
    let reason = proptest::collection::vec(prop_oneof![Just(b' '), 0x21u8..0x7f], 0..20);
    let name = "X-[A-Za-z0-9-]{0,12}";
    let value = "([!-~]([ !-~]{0,20}[!-~])?)?";
    let headers = proptest::collection::vec((name, value), 0..12);
    let body = proptest::collection::vec(any::<u8>(), 0..300);
    let chunks = proptest::collection::vec(1usize..64, 0..8);
    let lf_only = any::<bool>();
    (
        status,
        reason,
        headers,
        body,
        proptest::option::of(chunks),
        lf_only,
    )
        .prop_map(|(status, reason, headers, body, chunks, lf_only)| {
            let nl: &[u8] = if lf_only { b"\n" } else { b"\r\n" };
            let mut headers: Vec<(Vec<u8>, Vec<u8>)> = headers
                .into_iter()
                .map(|(n, v)| (n.into_bytes(), v.into_bytes()))
                .collect();
            let mut wire = format!("HTTP/1.1 {status}").into_bytes();
            if !reason.is_empty() {
                wire.push(b' ');
                wire.extend_from_slice(&reason);
            }
            wire.extend_from_slice(nl);
            match &chunks {
                Some(_) => headers.push((b"Transfer-Encoding".to_vec(), b"chunked".to_vec())),
                None => headers.push((
                    b"Content-Length".to_vec(),
                    body.len().to_string().into_bytes(),
                )),
            }
            for (n, v) in &headers {
                wire.extend_from_slice(n);
                wire.extend_from_slice(b": ");
                wire.extend_from_slice(v);
                wire.extend_from_slice(nl);
            }
            wire.extend_from_slice(nl);
            match chunks {
                None => wire.extend_from_slice(&body),
                Some(sizes) => {
                    let mut rest = &body[..];
                    let mut sizes = sizes.into_iter().cycle();
                    while !rest.is_empty() {
                        let n = sizes.next().unwrap_or(rest.len()).min(rest.len());
                        wire.extend_from_slice(format!("{n:x}").as_bytes());
                        wire.extend_from_slice(nl);
                        wire.extend_from_slice(&rest[..n]);
                        wire.extend_from_slice(nl);
                        rest = &rest[n..];
                    }
                    wire.extend_from_slice(b"0");
                    wire.extend_from_slice(nl);
                    wire.extend_from_slice(nl);
                }
            }
            let response = RawResponse {
                status,
                reason,
                headers,
                body,
            };
            (response, wire)
        })
}

proptest! {
    #[test]
    fn parse_response_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600), head in any::<bool>(), eof in any::<bool>()) {
        let limits = Limits { max_header_bytes: 256, max_headers: 8, max_body: 128 };
        let _ = parse_response(&bytes, Limits::default());
        let _ = parse_response_with(&bytes, limits, ResponseContext { head_request: head, eof });
    }

    #[test]
    fn parse_response_never_panics_on_mutated_responses(
        (_, wire) in response(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut wire = wire;
        for (i, b) in edits {
            let i = i.index(wire.len());
            wire[i] = b;
        }
        let wire = &wire[..cut.index(wire.len() + 1)];
        if let Ok((_, used)) = parse_response(wire, Limits::default()) {
            prop_assert!(used <= wire.len());
        }
    }

    #[test]
    fn well_formed_responses_round_trip((expected, wire) in response(), trailing in proptest::collection::vec(any::<u8>(), 0..8)) {
        let (res, used) = parse_response(&wire, Limits::default()).unwrap();
        prop_assert_eq!(&res, &expected);
        prop_assert_eq!(used, wire.len());
        // Bytes after the response (a pipelined next one) are not consumed.
        let mut longer = wire.clone();
        longer.extend_from_slice(&trailing);
        prop_assert_eq!(parse_response(&longer, Limits::default()).unwrap(), (expected, wire.len()));
        // Any strict prefix needs more bytes.
        if !wire.is_empty() {
            let cut = wire.len() / 2;
            prop_assert_eq!(parse_response(&wire[..cut], Limits::default()), Err(ParseError::Incomplete));
        }
    }
}
