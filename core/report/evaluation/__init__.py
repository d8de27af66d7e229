"""Evaluating methods over datasets (issue 20, in progress): the datasets and the store
of rows. The run itself, the summary tables and the command line come next."""

from core.report.evaluation.datasets import Dataset, DatasetImage, open_dataset
from core.report.evaluation.store import COLUMNS, Store

__all__ = ["COLUMNS", "Dataset", "DatasetImage", "Store", "open_dataset"]
