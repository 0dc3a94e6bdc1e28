#!/usr/bin/env python3
"""The API's contract: each endpoint's status, body and exact query count
(the X-Corm-Queries header the server sets from corm_query_count).

Usage: test_api.py API_BINARY DB_URL - starts the server on 127.0.0.1,
port 0 (it prints the port it got), with --seed, runs the requests, and
stops it by its pid."""
import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request

api, db = sys.argv[1], sys.argv[2]
proc = subprocess.Popen([api, "--db", db, "--port", "0", "--seed"], stdout=subprocess.PIPE, text=True)
failures = []


def call(method, path, body=None):
    data = body.encode() if isinstance(body, str) else None
    req = urllib.request.Request(base + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, text, queries = r.status, r.read().decode(), r.headers["X-Corm-Queries"]
    except urllib.error.HTTPError as e:
        status, text, queries = e.code, e.read().decode(), e.headers["X-Corm-Queries"]
    return status, json.loads(text), int(queries)


def check(what, method, path, status, queries, want=None, body=None, pick=None):
    got_status, got, got_queries = call(method, path, body)
    shown = pick(got) if pick else got
    if (got_status, got_queries) != (status, queries) or (want is not None and shown != want):
        failures.append("%s %s (%s): got %d, %d queries, %s; want %d, %d queries, %s" % (
            method, path, what, got_status, got_queries, json.dumps(shown), status, queries,
            json.dumps(want)))
    return got


def titles(page):
    return [page["count"], page["num_pages"], page["page"], [b["title"] for b in page["results"]]]


try:
    line = proc.stdout.readline()
    if "listening on" not in line:
        sys.exit("api: the server did not start: %r" % line)
    base = line.split("listening on ")[1].strip().rstrip("/")

    check("the first page: COUNT, the page, its genres", "GET", "/books", 200, 3,
          [7, 3, 1, ["A Wizard of Earthsea", "Dune", "Dune Messiah"]], pick=titles)
    page = check("the last page", "GET", "/books?page=3", 200, 3,
                 [7, 3, 3, ["The Left Hand of Darkness"]], pick=titles)
    check("a book of a page, nested", "GET", "/books?page=3", 200, 3, {
        "id": 2, "title": "The Left Hand of Darkness", "price": "9.99",
        "published_date": "1969-03-01", "author_id": 1, "publisher_id": 1,
        "author": {"id": 1, "name": "Ursula K. Le Guin", "email": "author@example.com",
                   "country_id": None, "bio": None},
        "publisher": {"id": 1, "name": "Ace", "country_id": None},
        "genres": [{"id": 1, "name": "Science Fiction"}]}, pick=lambda p: p["results"][0])
    check("a page past the end: the COUNT only", "GET", "/books?page=9", 404, 1,
          {"error": "EmptyPage: That page contains no results (page 9 of 3)"})
    check("not a page number", "GET", "/books?page=x", 400, 0,
          {"error": "PageNotAnInteger: That page number is not an integer ('x')"})
    check("a book with its aggregates", "GET", "/books/3", 200, 2, {
        "id": 3, "title": "The Dispossessed", "author_id": 1, "publisher_id": 2,
        "published_date": "1974-05-01", "isbn": "9780000000002", "pages": 387, "price": "10.50",
        "description": "", "featured": False, "review_count": 2, "rating_avg": 3.5,
        "author": {"id": 1, "name": "Ursula K. Le Guin", "email": "author@example.com",
                   "country_id": None, "bio": None},
        "publisher": {"id": 2, "name": "Harper", "country_id": None},
        "genres": [{"id": 1, "name": "Science Fiction"}]})
    check("no reviews", "GET", "/books/7", 200, 2, [None, 0, None],
          pick=lambda b: [b["published_date"], b["review_count"], b["rating_avg"]])
    check("no such book", "GET", "/books/999", 404, 1,
          {"error": "Book matching query does not exist"}, pick=lambda e: {"error": e["error"][:34]})
    new = '{"title": "The Word for World Is Forest", "author_id": 1, "isbn": "9780000000099",' \
          ' "pages": 189, "price": 7.5, "description": "", "published_date": "1972-03-01"}'
    check("a new book: one INSERT", "POST", "/books", 201, 1, [8, "7.50", False],
          body=new, pick=lambda b: [b["id"], b["price"], b["featured"]])
    check("the list sees it", "GET", "/books?page=3", 200, 3,
          [8, 3, 3, ["The Left Hand of Darkness", "The Word for World Is Forest"]], pick=titles)
    check("every bad field, no query", "POST", "/books", 400, 0, {
        "title": "201 characters, max_length is 200", "author": "required",
        "pages": "expected an integer, got a string",
        "price": "more than 2 decimal places (decimal(8, 2))",
        "published_date": "not a date (\"YYYY-MM-DD\", a real day)",
        "description": "required", "isbn": "required"},
          body=json.dumps({"title": "x" * 201, "pages": "12", "price": "1.234",
                           "published_date": "2023-02-29"}), pick=lambda e: e["fields"])
    check("a duplicate isbn: the INSERT fails", "POST", "/books", 400, 1, "CORM_CONSTRAINT",
          body=new, pick=lambda e: "CORM_CONSTRAINT" if "isbn" in e["error"] else e["error"])
    check("not JSON", "POST", "/books", 400, 0, None, body="{")
    check("top authors: one query", "GET", "/stats/top-authors", 200, 1, [
        {"id": 1, "name": "Ursula K. Le Guin", "book_count": 4},
        {"id": 2, "name": "Frank Herbert", "book_count": 2},
        {"id": 3, "name": "Octavia E. Butler", "book_count": 2}])
    check("no such endpoint", "GET", "/nope", 404, 0, {"error": "no such endpoint"})
finally:
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=30)
    if rc != 0:
        failures.append("the server exited with %d" % rc)

for f in failures:
    print("api: " + f)
if failures:
    sys.exit(1)
print("api: every endpoint answered with its exact body and query count")
