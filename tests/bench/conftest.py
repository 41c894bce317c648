"""The load test's own tests: its preparation on the test database, and its locustfile read in
a process of its own (importing locust patches the process for gevent)."""
