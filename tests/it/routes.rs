//! Which requests retain memory, on a real Prometheus: a Node.js service backfilled from
//! `synth::routes` (three routes with different daily shapes and bursts, one retaining a
//! known number of bytes per request, and a constant probe) must name the leaking
//! route with its bytes per request within ±25 % and at least 80 % of the growth; two
//! routes with the same shape must say "can't tell"; and a live prom-client process with
//! two routes, one leaking, driven at different rates and scraped every second, must
//! name the same route.

use crate::common::*;
use serde_json::Value;
use synth::routes::{Route, RouteScenario, Shape};

fn backfilled(scenario: &RouteScenario) -> PromServer {
    let mut data = Vec::new();
    scenario.write_openmetrics(&mut data).unwrap();
    PromServer::start(&data)
}

fn route<'a>(period: &'a Value, method: &str, path: &str) -> &'a Value {
    period["leak_by_route"]
        .as_array()
        .expect("leak_by_route is a list")
        .iter()
        .find(|r| r["method"] == method && r["route"] == path)
        .unwrap_or_else(|| panic!("no {method} {path} in {}", period["leak_by_route"]))
}

#[test]
fn the_leaking_route_is_found_among_three_and_a_probe() {
    let (from, to) = window();
    let retains = 3_000.0;
    let scenario = RouteScenario::three_routes_one_leaking("shop", from, to, retains);
    let server = backfilled(&scenario);
    let e = lc()
        .server(&server.url)
        .service("shop")
        .window(from, to)
        .json();
    let errors = schema_errors("evidence.schema.json", &e);
    assert!(errors.is_empty(), "{errors:?}");
    let w = &e["periods"]["window"];
    assert!(w["leak_by_route_missing"].is_null(), "{w:#}");
    let orders = route(w, "POST", "/api/orders");
    let bpr = orders["bytes_per_request"].as_f64().expect("figures");
    eprintln!(
        "POST /api/orders: {bpr:.0} B/request (truth {retains}), share {}, interval {}",
        orders["share_of_growth"], orders["bytes_per_request_interval"]
    );
    assert!(within(bpr, retains, 0.25), "{bpr} vs {retains}");
    assert!(
        orders["share_of_growth"].as_f64().unwrap() >= 0.8,
        "{orders}"
    );
    assert_eq!(orders["retains"], true);
    let [low, high] = [0, 1].map(|i| orders["bytes_per_request_interval"][i].as_f64().unwrap());
    assert!(low <= bpr && bpr <= high && low > 0.0, "{orders}");
    assert_eq!(w["leak_by_route_top"]["route"], "/api/orders");
    // The others retain (nearly) nothing.
    for (method, path) in [("GET", "/api/products"), ("GET", "/api/search")] {
        let other = route(w, method, path);
        let b = other["bytes_per_request"].as_f64().expect("figures");
        assert!(b < 0.05 * retains, "{method} {path}: {other}");
        assert!(other["share_of_growth"].as_f64().unwrap() < 0.1, "{other}");
        assert_eq!(other["retains"], false, "{other}");
    }
    // The probe is constant: it cannot be told from growth no route explains.
    let probe = route(w, "GET", "/healthz");
    assert_eq!(probe["cannot_tell"], "constant_traffic", "{probe}");
    assert!(probe["bytes_per_request"].is_null());
    assert!(
        within(probe["requests_per_second"].as_f64().unwrap(), 1.0, 0.05),
        "{probe}"
    );
    let unexplained = w["leak_by_route_unexplained_share"].as_f64().unwrap();
    assert!(unexplained.abs() < 0.2, "{unexplained}");
    // One request, folded over status: the 2 % of 500s are in the route's rate.
    let record = query_record(&e, "route_requests");
    assert_eq!(record["ok"], true, "{record}");
    // The report: the evidence line and Reproduction Steps name the route.
    let md = lc()
        .server(&server.url)
        .service("shop")
        .window(from, to)
        .arg("-q")
        .expect_code(0);
    let md = String::from_utf8_lossy(&md.stdout);
    let line = md
        .lines()
        .find(|l| l.contains("Which requests retain memory"))
        .unwrap_or_else(|| panic!("no evidence line in\n{md}"));
    assert!(line.contains("POST /api/orders"), "{line}");
    let step = md
        .lines()
        .find(|l| l.contains("send POST /api/orders requests"))
        .unwrap_or_else(|| panic!("no reproduction step in\n{md}"));
    assert!(step.contains("KB"), "{step}");
    let load = md
        .lines()
        .find(|l| l.starts_with("- Memory after 10000 POST /api/orders requests:"))
        .unwrap_or_else(|| panic!("no per-route load test line in\n{md}"));
    eprintln!("{line}\n{step}\n{load}");
}

#[test]
fn two_routes_with_one_shape_cannot_be_told_apart() {
    let (from, to) = window();
    let daily = |mean: f64| Shape::Daily {
        mean,
        amplitude: 0.7,
        peak_hour: 14.0,
        peaks: 1.0,
        bursts: vec![(4.0, 30.0, 2.0)],
    };
    let scenario = RouteScenario {
        routes: vec![
            Route::new("POST", "/api/cart", daily(5.0), 4_000.0),
            Route::new("GET", "/api/cart", daily(15.0), 0.0),
        ],
        ..RouteScenario::three_routes_one_leaking("cart", from, to, 0.0)
    };
    let server = backfilled(&scenario);
    let e = lc()
        .server(&server.url)
        .service("cart")
        .window(from, to)
        .json();
    let errors = schema_errors("evidence.schema.json", &e);
    assert!(errors.is_empty(), "{errors:?}");
    let w = &e["periods"]["window"];
    assert_eq!(w["leak_by_route_missing"], "traffic_shapes_alike", "{w:#}");
    let alike: Vec<&str> = w["leak_by_route_alike"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        alike.contains(&"POST /api/cart") && alike.contains(&"GET /api/cart"),
        "{alike:?}"
    );
    for r in w["leak_by_route"].as_array().unwrap() {
        assert!(r["bytes_per_request"].is_null(), "{r}");
    }
    assert!(w["leak_by_route_top"].is_null());
    let md = lc()
        .server(&server.url)
        .service("cart")
        .window(from, to)
        .arg("-q")
        .expect_code(0);
    let md = String::from_utf8_lossy(&md.stdout);
    let line = md
        .lines()
        .find(|l| l.contains("Which requests retain memory"))
        .unwrap_or_else(|| panic!("no evidence line in\n{md}"));
    assert!(line.contains("can't tell"), "{line}");
}
