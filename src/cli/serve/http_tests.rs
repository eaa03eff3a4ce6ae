use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::*;

/// A server side connection, and the client's end of it.
fn pair() -> (Connection, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    (Connection::new(server), client)
}

fn quick() -> Limits {
    Limits {
        head_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        max_body_bytes: 1000,
        ..Limits::default()
    }
}

#[test]
fn pipelined_requests_are_read_one_by_one_with_bodies_and_queries() {
    let (mut conn, mut client) = pair();
    client
        .write_all(
            b"POST /v1/events?a=1&b=x%20y+z HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /x HTTP/1.1\r\nConnection: close\r\n\r\n",
        )
        .expect("write");
    let first = conn.next_request(&quick(), true).expect("first");
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/v1/events");
    assert_eq!(first.body, b"hello");
    assert_eq!(first.param("b"), Some("x y z"));
    assert!(first.keep_alive);
    let second = conn.next_request(&quick(), false).expect("second");
    assert_eq!(second.path, "/x");
    assert!(!second.keep_alive);
    assert!(second.body.is_empty());
}

#[test]
fn chunked_bodies_are_joined_and_bounded() {
    let (mut conn, mut client) = pair();
    client
        .write_all(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n")
        .expect("write");
    let req = conn.next_request(&quick(), true).expect("request");
    assert_eq!(req.body, b"abcde");

    let (mut conn, mut client) = pair();
    client
        .write_all(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n")
        .expect("write");
    assert!(matches!(
        conn.next_request(&quick(), true),
        Err(ReadError::BodyTooLarge(2000))
    ));
}

#[test]
fn too_large_bodies_and_heads_are_refused_before_reading_them() {
    let (mut conn, mut client) = pair();
    client
        .write_all(b"POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n")
        .expect("write");
    assert!(matches!(
        conn.next_request(&quick(), true),
        Err(ReadError::BodyTooLarge(1001))
    ));

    let (mut conn, mut client) = pair();
    let mut head = b"GET / HTTP/1.1\r\n".to_vec();
    while head.len() < 20_000 {
        head.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    client.write_all(&head).expect("write");
    assert!(matches!(
        conn.next_request(&quick(), true),
        Err(ReadError::HeadTooLarge)
    ));
}

#[test]
fn a_client_that_dribbles_its_head_is_cut_off_at_the_head_deadline() {
    let (mut conn, client) = pair();
    let writer = std::thread::spawn(move || {
        let mut client = client;
        for _ in 0..20 {
            if client.write_all(b"X-A: b\r\n").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let start = Instant::now();
    let mut dribble = conn.next_request(&quick(), true);
    // The first bytes may not be a request line yet: any error but a
    // success, and within the deadline (plus scheduling slack).
    if let Err(ReadError::Bad(_)) = dribble {
        dribble = Err(ReadError::Timeout);
    }
    assert!(matches!(dribble, Err(ReadError::Timeout)), "{dribble:?}");
    assert!(start.elapsed() < Duration::from_secs(2));
    writer.join().expect("writer");
}

#[test]
fn an_idle_keep_alive_connection_is_closed_quietly() {
    let (mut conn, _client) = pair();
    assert!(matches!(
        conn.next_request(&quick(), false),
        Err(ReadError::Closed)
    ));
}

#[test]
fn smuggling_and_bad_lengths_are_bad_requests() {
    for head in [
        &b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
        b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"GARBAGE\x01\r\n\r\n",
    ] {
        let (mut conn, mut client) = pair();
        client.write_all(head).expect("write");
        let read = conn.next_request(&quick(), true);
        assert!(matches!(read, Err(ReadError::Bad(_))), "{read:?}");
    }
    let (mut conn, mut client) = pair();
    client.write_all(b"POST / HTTP/1.1\r\n\r\n").expect("write");
    assert!(matches!(
        conn.next_request(&quick(), true),
        Err(ReadError::LengthRequired)
    ));
}

#[test]
fn percent_decoding_keeps_bad_escapes_and_replaces_bad_utf8() {
    assert_eq!(decode_component("a%2Fb%zz%", false), "a/b%zz%");
    assert_eq!(decode_component("a+b", false), "a+b");
    assert_eq!(decode_component("a+b", true), "a b");
    assert_eq!(decode_component("%FF", true), "\u{FFFD}");
    assert_eq!(
        parse_query("where=Amount%3E5&where=Region+%3D+EU&&x"),
        vec![
            ("where".to_owned(), "Amount>5".to_owned()),
            ("where".to_owned(), "Region = EU".to_owned()),
            ("x".to_owned(), String::new()),
        ]
    );
}
