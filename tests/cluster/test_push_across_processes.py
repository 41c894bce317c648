"""A live push made by one web process reaches a WebSocket held by the other: the processes
share nothing but Redis (the channel layer)."""

import json
import uuid

from websockets.sync.client import connect


def place_order_for(ops, *, seller: str, base: str) -> int:
    buyer, farmer = ops.api("buyer", base), ops.api(seller, base)
    seller_id = farmer.get(f"{base}/api/me/", timeout=10).json()["id"]
    listings = buyer.get(f"{base}/api/listings/", params={"page_size": 100}, timeout=10).json()
    listing = next(each for each in listings["results"] if each["seller"] == seller_id)
    lines = [{"listing_id": listing["id"], "quantity_kg": listing["minimum_order_kg"]}]
    answer = buyer.post(
        f"{base}/api/orders/", json={"lines": lines}, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def next_event(socket, kind: str) -> dict:
    while True:
        event = json.loads(socket.recv(timeout=20))
        if event.get("kind") == kind or event.get("type") == kind:
            return event


def socket_of(ops, *, user: str, base: str):
    cookie = ops.session_cookie(user, base)
    ws_base = base.replace("http://", "ws://")
    return connect(
        f"{ws_base}/ws/me/", additional_headers={"Cookie": f"sessionid={cookie}", "Origin": base}
    )


def test_an_order_placed_on_one_web_process_is_pushed_to_a_socket_on_the_other(ops):
    with socket_of(ops, user="farmer", base=ops.web["web2"]) as farmer_screen:
        order_id = place_order_for(ops, seller="farmer", base=ops.web["web1"])

        event = next_event(farmer_screen, "order.placed")

    assert f"#{order_id}" in json.dumps(event["payload"], ensure_ascii=False) or order_id in (
        event["payload"].get("order_id"),
        event["payload"].get("payload", {}).get("order_id"),
    )
    ops.log(f"order {order_id} placed on web1 (:8081) reached the farmer's socket on web2 (:8082)")


def test_a_socket_through_nginx_hears_an_order_placed_through_nginx(ops):
    with socket_of(ops, user="farmer2", base=ops.url) as farmer_screen:
        order_id = place_order_for(ops, seller="farmer2", base=ops.url)

        event = next_event(farmer_screen, "order.placed")

    assert f"#{order_id}" in json.dumps(event["payload"], ensure_ascii=False) or order_id in (
        event["payload"].get("order_id"),
        event["payload"].get("payload", {}).get("order_id"),
    )
