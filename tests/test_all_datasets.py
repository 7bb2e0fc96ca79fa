"""Every registry dataset, built from its real artifact, against the counts in DATA_SOURCES.md.

The artifacts (~90 MB in all) are fetched once into the cache and reused by later runs."""

import pytest

from embedlab.data.datasets import dataset_ids, load_dataset

pytestmark = pytest.mark.slow  # trains models (see conftest: the fast tier)

EXPECTED = {  # id: (total, {class: count}) measured from DATA_SOURCES.md's recipes
    "mr": (10605, {"negative": 5315, "positive": 5290}),
    "mr_official4k": (4000, {"negative": 2000, "positive": 2000}),
    "pl_reviews": (1500, {"negative": 750, "positive": 750}),
    "uci_imdb": (1000, {"negative": 500, "positive": 500}),
    "uci_yelp": (1000, {"negative": 500, "positive": 500}),
    "uci_amazon": (1000, {"negative": 500, "positive": 500}),
    # 4,200 / 3,708 / 5,190 rated rows less those rated exactly 0 (4 / 98 / 244)
    "vader_tweets": (4196, {"negative": 1299, "positive": 2897}),
    "vader_amazon": (3610, {"negative": 1482, "positive": 2128}),
    "vader_nyt": (4946, {"negative": 2742, "positive": 2204}),
    "fine_foods": (5000, {"other": 1742, "great": 3258}),
    # 38,158 rows; 915 duplicate texts; 46 texts with conflicting labels dropped
    "crowdflower_tweets": (37197, {"negative": 15955, "neutral": 14431, "positive": 6811}),
    # Kim (2014)'s files (../shared/datasets, the mirror; sentences and, for SST, training phrases)
    "kim_mr": (10662, {"negative": 5331, "positive": 5331}),
    "subj": (10000, {"subjective": 5000, "objective": 5000}),
    "cr": (3771, {"negative": 1366, "positive": 2405}),  # 4 of 3,775 lines have no text
    "mpqa": (10603, {"negative": 7292, "positive": 3311}),  # 3 of 10,606 lines have no text
    "trec": (5952, {"description": 1300, "entity": 1344, "abbreviation": 95, "human": 1288, "location": 916,
                    "number": 1009}),
    "sst2": (86574, {"negative": 39352, "positive": 47222}),
    "sst1": (168672, {"very negative": 8699, "negative": 30653, "neutral": 82098, "positive": 36127,
                      "very positive": 11095}),
}


def test_every_registry_dataset_is_covered():
    assert set(EXPECTED) == set(dataset_ids())


@pytest.mark.parametrize("dataset_id", sorted(EXPECTED))
def test_counts_and_balance(dataset_id):
    dataset = load_dataset(dataset_id)
    total, per_class = EXPECTED[dataset_id]
    assert len(dataset) == total
    for name, count in per_class.items():
        assert int((dataset.labels == dataset.card.classes.index(name)).sum()) == count
    assert all(text.strip() for text in dataset.texts)


def test_vader_row_counts_before_dropping_zero_ratings():
    for dataset_id, rows in (("vader_tweets", 4200), ("vader_amazon", 3708), ("vader_nyt", 5190)):
        meta = load_dataset(dataset_id).meta
        assert meta["rows"] == rows and rows - meta["zero_rating_dropped"] == len(load_dataset(dataset_id))


def test_fine_foods_official_split():
    dataset = load_dataset("fine_foods")
    train, test = dataset.split == "train", dataset.split == "test"
    assert train.sum() == 4000 and test.sum() == 1000
    assert int(dataset.labels[train].sum()) == 2600 and int(dataset.labels[test].sum()) == 658


def test_crowdflower_is_deduplicated_three_class():
    dataset = load_dataset("crowdflower_tweets")
    assert dataset.meta["rows"] == 38158 and dataset.meta["duplicate_rows"] == 915
    assert len(set(dataset.texts)) == len(dataset.texts) and dataset.card.classes == (
        "negative", "neutral", "positive")


def test_pl_reviews_are_documents():
    assert load_dataset("pl_reviews").meta["counts"]["mean_tokens"] > 600
