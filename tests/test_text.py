from embedlab.data.text import PAD_ID, UNK_ID, Vocabulary, clean_str, tokenize


def test_clean_str_splits_clitics_and_punctuation():
    assert tokenize("It's not bad, isn't it?") == ["it", "'s", "not", "bad", ",", "is", "n't", "it", "?"]
    assert tokenize("They've (really) won!") == ["they", "'ve", "(", "really", ")", "won", "!"]
    assert tokenize("We'd say you'll love it") == ["we", "'d", "say", "you", "'ll", "love", "it"]


def test_clean_str_drops_quote_marks_used_as_quotes():
    assert tokenize("the new ''Conan'' is 'great'") == ["the", "new", "conan", "is", "great"]
    assert tokenize("“Fine” — ok") == ["fine", "ok"]


def test_clean_str_lowercases_and_keeps_digits():
    assert clean_str("The 21st CENTURY") == "the 21st century"
    assert tokenize("") == [] and tokenize("  ...  ") == []


def test_matches_official_tokenisation_on_real_mr(mr):
    # The first MR sentences in raw form tokenise like the official lower-cased release.
    assert tokenize(mr.texts[2]) == ["effective", "but", "too", "tepid", "biopic"]
    assert "'s" in tokenize(mr.texts[0]) and "conan" in tokenize(mr.texts[0])


def test_vocabulary_is_built_from_training_tokens_only():
    vocab = Vocabulary().fit([["good", "film"], ["good", "plot"]])
    assert vocab.words_[:3] == ["<pad>", "<unk>", "good"]
    encoded = vocab.encode([["good", "unseen"], ["film", "good", "plot", "good"]], length=3)
    assert encoded.tolist() == [[2, UNK_ID, PAD_ID], [3, 2, 4]]


def test_vocabulary_min_count_and_max_size():
    vocab = Vocabulary(min_count=2).fit([["a", "a", "b"], ["c", "c", "c"]])
    assert vocab.words_[2:] == ["c", "a"]
    assert len(Vocabulary(max_size=1).fit([["a", "a", "b"]])) == 3
