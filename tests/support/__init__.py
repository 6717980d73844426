"""What the tests share besides their fixtures (those are in `tests/conftest.py`): the Herald
they run (`herald`), the calls they make (`calls`) and the bodies they send (`data`), what the
providers received (`received`), the PostgreSQL and Redis under the production mode
(`backends`), and the real processes (`processes`, `deployment`, `servers`), command line
(`cli`) and browser (`browser`) that some of them drive."""
