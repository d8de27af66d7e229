"""Evaluating methods over datasets (docs/METHODS.md#evaluation): the datasets
(`datasets`), the store of rows (`store`), the run, locally or on a Dask cluster
(`run`), and the tables it writes (`summary`)."""

from core.report.evaluation.datasets import Dataset, DatasetImage, open_dataset
from core.report.evaluation.run import EvaluationReport, EvaluationSettings, evaluate
from core.report.evaluation.store import COLUMNS, Store, read_store

__all__ = ["COLUMNS", "Dataset", "DatasetImage", "EvaluationReport", "EvaluationSettings", "Store", "evaluate",
           "open_dataset", "read_store"]
