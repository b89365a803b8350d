# BG/NBD-like purchase histories (CDNOW's parameters, days) plus browsing, for timing the live value fit.
# Usage: python3 bench/value/gen_value_events.py CUSTOMERS [SEED] > events.jsonl   (then `cairn import --data DIR events.jsonl`)
import json, random, sys, datetime
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
n = int(sys.argv[1])
end = datetime.datetime(2026, 11, 22, tzinfo=datetime.timezone.utc)
chans = ["web", "mobile", "email", "store", "sms"]
prods = ["P%03d" % i for i in range(200)]
out = sys.stdout
def ts(day, sec):
    return (end - datetime.timedelta(days=day, seconds=sec)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
mid = 0
for c in range(n):
    uid = "u%d" % c
    lam = random.gammavariate(0.243, 1 / 4.414) / 7  # purchases/day
    p = random.betavariate(0.793, 2.426)
    day = random.uniform(30, 365)
    spend = random.gammavariate(6.25, 1) * 15.44 / random.gammavariate(3.74, 1)
    fav = random.choice(chans)
    if random.random() < 0.3:
        mid += 1
        out.write(json.dumps({"type": "identify", "userId": uid, "messageId": "m%d" % mid, "timestamp": ts(day, 5),
                              "traits": {"segment": random.choice(["retail", "trade", "vip"]), "product_version": random.choice(["1.0", "2.0", "3.0"])}}) + "\n")
    while day > 0:
        for _ in range(random.randint(2, 8)):
            mid += 1
            ch = fav if random.random() < 0.7 else random.choice(chans)
            out.write(json.dumps({"type": "track", "event": "Product Viewed", "userId": uid, "messageId": "m%d" % mid,
                                  "timestamp": ts(day, random.randint(10, 3000)), "properties": {"channel": ch, "product_id": random.choice(prods)}}) + "\n")
        mid += 1
        items = [{"product_id": random.choice(prods)} for _ in range(random.randint(1, 3))]
        out.write(json.dumps({"type": "track", "event": "Order Completed", "userId": uid, "messageId": "m%d" % mid,
                              "timestamp": ts(day, 1), "properties": {"channel": fav, "revenue": round(spend * random.uniform(0.5, 1.5), 2), "products": items}}) + "\n")
        if random.random() < p:
            break
        day -= random.expovariate(lam) if lam > 0 else 1e9
