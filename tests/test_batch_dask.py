"""A prompt per row on Dask: ddf.respond.map on a two-worker LocalCluster against the stand-in."""

from __future__ import annotations

from typing import Literal, Optional

import pandas as pd
import pytest

import agcloud_magic
from agcloud_magic.accessor import register_dask_accessor, register_pandas_accessor
from agcloud_magic.engine import session as session_module
from agcloud_magic.engine.session import Session
from agcloud_magic.errors import ConfigError

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

pytestmark = pytest.mark.dask

KEY = "sk-test-dask-worker-key-0123456789"
REVIEW = {"sentiment": Literal["pos", "neg"], "stars": int, "spam": bool,
          "note": Optional[str]}  # noqa: UP045 (the spelling users write)


def frame() -> pd.DataFrame:
    texts = ["good tea", "bad coffee", "good tea", "fine water", "buy now cheap", "good bread"]
    return pd.DataFrame({"text": texts, "n": range(6)}, index=[10, 20, 30, 40, 50, 60])


@pytest.fixture()
def accessors():
    register_pandas_accessor()
    register_dask_accessor()


def test_meta_and_refusals_need_no_cluster_and_no_key(accessors, monkeypatch):
    monkeypatch.delenv("AGCLOUD_API_KEY", raising=False)
    ddf = dd.from_pandas(frame(), npartitions=2)
    out = ddf.respond.map("Review: {text}", REVIEW)
    assert isinstance(out, dd.DataFrame)  # lazy: nothing sent, no key needed yet
    assert list(out.columns) == [*REVIEW, "error"]
    dtypes = {name: str(dtype) for name, dtype in out.dtypes.items()}
    assert dtypes == {"sentiment": "category", "stars": "Int64", "spam": "boolean",
                      "note": "string", "error": "string"}
    assert list(out._meta["sentiment"].cat.categories) == ["pos", "neg"]
    assert list(ddf["text"].respond.map("{value}").columns) == ["answer", "error"]
    lazy = agcloud_magic.batch(ddf["text"], "{value}", REVIEW)
    assert isinstance(lazy, dd.DataFrame)
    # An empty frame computes (threaded scheduler) without a key: nothing to send.
    empty = dd.from_pandas(frame().iloc[:0], npartitions=1).respond.map("{text}", REVIEW)
    pd.testing.assert_frame_equal(empty.compute(), out._meta, check_index_type=False)
    with pytest.raises(ConfigError, match="client="):
        agcloud_magic.batch(ddf, "{text}", client=object())
    with pytest.raises(ConfigError, match="column"):
        ddf.respond.map("{missing}", REVIEW)
    with pytest.raises(ConfigError, match="dry_run"):
        ddf.respond.map("{text}", dry_run=True)
    with pytest.raises(ConfigError, match="concurrency_total"):
        ddf.respond.map("{text}", concurrency_total=0)
    with pytest.raises(ConfigError, match="concurrency_total"):
        frame().respond.map("{text}", concurrency_total=4)


def test_on_a_local_cluster_equals_the_pandas_result_and_the_key_stays_out_of_the_graph(
        accessors, standin, monkeypatch, tmp_path):
    # Workers inherit os.environ when they are spawned: set it first, then start the cluster.
    monkeypatch.setenv("AGCLOUD_BASE_URL", standin.base_url)
    monkeypatch.setenv("AGCLOUD_API_KEY", KEY)
    monkeypatch.setenv("AGCLOUD_MODEL", "echo")
    monkeypatch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path / "workers"))
    cluster = client = None
    try:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, worker_dashboard_address=None)
        client = distributed.Client(cluster)
        ddf = dd.from_pandas(frame(), npartitions=2)
        lazy = ddf.respond.map("Review: {text}", REVIEW, rows_per_request=1, concurrency=2,
                               concurrency_total=4)
        graph = cloudpickle.dumps(dict(lazy.__dask_graph__()))
        assert KEY.encode() not in graph and b"sk-test" not in graph
        assert standin.requests_served == 0  # lazy
        out = lazy.compute()
        # 6 rows, 5 distinct prompts, 2 partitions: "good tea" twice in the first partition.
        assert standin.requests_served == 5
        leases = client.run_on_scheduler(
            lambda dask_scheduler: dict(dask_scheduler.extensions["semaphores"].max_leases))
        assert leases == {"agcloud-magic-requests-2": 2}  # 4 in flight / 2 per partition

        # The same frame on one machine (its own cache, so it asks the stand-in again).
        monkeypatch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path / "local"))
        session = Session()
        monkeypatch.setattr(session_module, "_CURRENT", session)
        try:
            expected = frame().respond.map("Review: {text}", REVIEW, rows_per_request=1)
        finally:
            session.close()
        assert expected["error"].isna().all(), expected["error"].tolist()
        pd.testing.assert_frame_equal(out, expected)
        # Computed again: every row comes from the workers' cache.
        before = standin.requests_served
        pd.testing.assert_frame_equal(lazy.compute(), expected)
        assert standin.requests_served == before
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def test_batching_imports_no_dask_until_a_dask_collection_comes():
    import subprocess
    import sys

    code = ("import sys, agcloud_magic.batching, agcloud_magic.accessor\n"
            "import pandas as pd\n"
            "agcloud_magic.batch(['a'], '{value}', dry_run=True)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_extension_registers_the_dask_accessor_in_the_cell_after_dask_is_imported():
    import subprocess
    import sys

    code = ("from IPython.core.interactiveshell import InteractiveShell\n"
            "ip = InteractiveShell.instance()\n"
            "ip.run_line_magic('load_ext', 'agcloud_magic')\n"
            "ip.run_cell('import pandas')\n"
            "ip.run_cell('import dask.dataframe as dd')\n"
            "from agcloud_magic.accessor import RespondAccessor\n"
            "import dask.dataframe as dd\n"
            "print(dd.DataFrame.respond is RespondAccessor is dd.Series.respond)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "True"


def test_a_series_on_the_threaded_scheduler_equals_the_pandas_result(accessors, standin,
                                                                     monkeypatch, tmp_path):
    monkeypatch.setenv("AGCLOUD_BASE_URL", standin.base_url)
    monkeypatch.setenv("AGCLOUD_API_KEY", KEY)
    monkeypatch.setenv("AGCLOUD_MODEL", "echo")
    monkeypatch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    session = Session()
    monkeypatch.setattr(session_module, "_CURRENT", session)
    try:
        series = frame()["text"]
        out = dd.from_pandas(series, npartitions=3).respond.map("Review: {value}", REVIEW,
                                                                rows_per_request=1)
        computed = out.compute(scheduler="threads")  # no cluster: no semaphore either
        pd.testing.assert_frame_equal(computed, series.respond.map("Review: {value}", REVIEW,
                                                                   rows_per_request=1))
        assert computed["error"].isna().all()
    finally:
        session.close()
