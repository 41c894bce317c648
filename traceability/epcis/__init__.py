"""GS1 EPCIS 2.0: a lot's journey as standard events (out), and partners' events (in).

The schema (EPCIS-JSON-Schema.json, GS1's, under LICENSE-GS1.txt) is vendored here: the app
checks documents at run time and must not fetch anything.
"""
