"""Web-page debris of the real seed files never reaches a passage or an answer; the article text survives."""

from __future__ import annotations

import pytest

from bot.search.analysis import fold
from bot.search.cleaning import clean_paragraphs, guess_title, split_paragraphs
from bot.search.engine import Engine
from bot.text.answers import answer_text
from tests.conftest import dev_questions

DEBRIS = [
    "Page d'accueil>>",
    "Français>>",
    ">>",
    "(Web editor",
    "Web editor",
    "Ying Xie",
    "Dernière mise à jour",
    "15h58",
    "01.07.2025 15h39",
    "25.12.2025 17h35",
    "Commentaires 5",
    "Signaler",
    "à écrit le",
    "Votre email ne sera pas affiché publiquement",
    "Tous les champs sont obligatoires",
    "Merci pour votre commentaire",
    "sous réserve de validation",
    # reader comments of the La Tribune page
    "assedics",
    "artisants",
    "énorme entrepot",
    "homme de génie",
    "artisans français",
    "(Crédits",
    "Jason Lee",
    "(source ARTE)",
    "/PRNewswire/",
    "date 2020-07",
]

# Questions aimed at the debris itself: whatever comes back must not quote it.
DEBRIS_QUESTIONS = [
    "Qui touche les assedics en France ?",
    "Qui est le web editor ?",
    "Ying Xie Yishuang Liu",
    "Dernière mise à jour",
    "commentaires signaler",
    "Votre email sera-t-il affiché publiquement ?",
    "Merci pour votre commentaire",
    "Alibaba arrive en Belgique avec un énorme entrepôt en France ?",
    "Qui a écrit le 02/01/2019 ?",
    "Page d'accueil Économie",
    "Crédits photo Jason Lee",
    "artisans français qui vendent en ligne le produit de leur travail",
]


def _all_texts(engine: Engine) -> list[str]:
    texts = [p.text for p in engine.index.passages]
    texts += [d.title or "" for d in engine.documents]
    return texts


@pytest.mark.parametrize("debris", DEBRIS)
def test_no_debris_in_any_passage_or_title(seed_engine: Engine, debris: str) -> None:
    for text in _all_texts(seed_engine):
        assert fold(debris) not in fold(text), f"{debris!r} found in {text[:120]!r}"


@pytest.mark.parametrize("question", [q["q"] for q in dev_questions()] + DEBRIS_QUESTIONS)
def test_no_debris_in_any_answer(seed_engine: Engine, question: str) -> None:
    answer = seed_engine.answer(question)
    shown = [answer_text(answer), *answer.sentences, *(s.passage for s in answer.sources)]
    for text in shown:
        for debris in DEBRIS:
            assert fold(debris) not in fold(text), f"{debris!r} in the answer to {question!r}"


def _doc(engine: Engine, prefix: str):
    return next(d for d in engine.documents if d.doc_id.startswith(prefix))


def test_duplicated_photo_captions_count_once(seed_engine: Engine) -> None:
    text = _doc(seed_engine, "000").text
    assert text.count("Les produits importés sont gérés dans un entrepôt cautionné à Jinhua") == 1
    # The two captions differ only by "Tiktok"/"TikTok": still one.
    assert fold(text).count(fold("Photo montrant le stand d'exposition de la boutique")) == 1


def test_duplicated_title_counts_once(seed_engine: Engine) -> None:
    doc = _doc(seed_engine, "002")
    title = "Une responsable des opérations de commerce électronique transfrontalier explique comment ouvrir la voie"
    assert doc.title is not None and doc.title.startswith(title)
    assert title not in doc.text  # the title is metadata, not quoted twice as body text
    doc0 = _doc(seed_engine, "000")
    assert "La Chine élargit ses efforts pour stimuler la coopération mondiale" not in doc0.text


def test_reader_comments_are_cut_but_the_article_stays(seed_engine: Engine) -> None:
    doc = _doc(seed_engine, "003")
    assert doc.paragraphs[0].startswith("Dans les villages du Yunnan")
    assert doc.paragraphs[-1].endswith("troquer la bêche pour le net.")
    assert "Alibaba" not in doc.text


@pytest.mark.parametrize(
    ("prefix", "sentence"),
    [
        ("000", "La Chine a établi des collaborations de commerce électronique de la Route de la Soie avec 35 pays."),
        ("000", "Une chaîne de supermarchés belge a également passé une commande de 9 000 dollars"),
        ("000", "a souligné He Yongqian, porte-parole du ministère du Commerce."),
        ("001", "en Espagne et en Italie, AliExpress a vu son trafic augmenter respectivement de 20% et 14%"),
        ("001", "Selon un nouveau rapport, les plates-formes de commerce électronique chinoises aident"),
        ("002", "a atteint 1 370 milliards de yuans, soit une augmentation de 10,3 % par rapport"),
        ("002", "Tang Hexia (au premier plan) et sa collègue examinent la page du groupe Meixin"),
        ("003", "Su Junping, un jeune entrepreneur, a fait fortune en commercialisant en ligne des théières"),
        ("003", "En 2017, autour de 800 milliards d'euros ont été dépensés sur internet en Chine."),
        ("004", "Les alertes de messages provenant des utilisateurs du site web d'achat chinois très prisé, Taobao"),
        ("004", "a déclaré Pan Jian, directeur adjoint du Bureau agricole et rural de Guiyang."),
        ("004", "sans oublier la Région administrative spéciale de Hong Kong."),
    ],
)
def test_article_text_survives(seed_engine: Engine, prefix: str, sentence: str) -> None:
    doc = _doc(seed_engine, prefix)
    assert sentence in doc.text
    assert any(sentence in p.text for p in seed_engine.index.passages if seed_engine.documents[p.doc_index] is doc)


def test_seed_paragraph_counts_are_stable(seed_engine: Engine) -> None:
    # Debris removed, nothing of the body lost: 14/10/8/3/13 paragraphs of article text.
    counts = {d.doc_id[:3]: len(d.paragraphs) for d in seed_engine.documents}
    assert counts == {"000": 14, "001": 10, "002": 8, "003": 3, "004": 13}


def test_clean_paragraphs_on_synthetic_page() -> None:
    raw = (
        "Accueil>>Monde\n\n"
        "Un titre d'article assez long\n\n"
        "Dernière mise à jour à 10h00 le 01/02\n\n"
        "Premier paragraphe de l'article. Il parle de théières.\n\n"
        "Premier paragraphe de l'article.  Il parle de THÉIÈRES !\n\n"
        "(Web editor: Quelqu'un)\n\n"
        "Second paragraphe.\n\n"
        "Commentaires 2\n\n"
        "Un lecteur mécontent.\n\n"
        "Signaler"
    )
    kept = clean_paragraphs(split_paragraphs(raw), title="Un titre d'article assez long")
    assert kept == ["Premier paragraphe de l'article. Il parle de théières.", "Second paragraphe."]


def test_split_paragraphs_blank_lines_or_single_lines() -> None:
    assert split_paragraphs("Un.\n\nDeux\nsuite.\n\n\nTrois.") == ["Un.", "Deux", "suite.", "Trois."]
    assert split_paragraphs("Un.\r\nDeux.\r\nTrois.") == ["Un.", "Deux.", "Trois."]
    assert split_paragraphs("  \n\n \t\n") == []


def test_hard_wrapped_paragraph_stays_one_paragraph() -> None:
    wrapped = (
        "Une phrase très longue qui a été coupée par un éditeur de texte au milieu de la ligne et qui\n"
        "continue ici sur la ligne suivante sans être un nouveau paragraphe pour autant, voilà. Une autre\n"
        "phrase suit, coupée elle aussi par le retour à la ligne de l'éditeur.\n"
        "Une ligne finie par un point reste un paragraphe à part."
    )
    assert split_paragraphs(f"Avant.\n\n{wrapped}") == [
        "Avant.",
        " ".join(wrapped.splitlines()[:3]),
        "Une ligne finie par un point reste un paragraphe à part.",
    ]


def test_captions_and_headings_are_not_unwrapped_into_the_next_line() -> None:
    text = (
        "Des vendeurs présentent leurs produits en direct sur Taobao, à Guiyang, le 5 mai 2018\n"
        "Le commerce en ligne transforme les campagnes chinoises.\n"
        "Un titre court sans point\n"
        "suivi d'une ligne en minuscules."
    )
    assert split_paragraphs(text) == [
        "Des vendeurs présentent leurs produits en direct sur Taobao, à Guiyang, le 5 mai 2018",
        "Le commerce en ligne transforme les campagnes chinoises.",
        "Un titre court sans point",
        "suivi d'une ligne en minuscules.",
    ]


def test_lines_are_never_joined_across_blank_lines() -> None:
    first = "Une longue ligne qui ne se termine par aucune ponctuation finale mais par un blanc"
    assert split_paragraphs(f"{first}\n\nsuite en minuscules.") == [first, "suite en minuscules."]


def test_guess_title() -> None:
    assert guess_title(["E-commerce : bienvenue dans les villages 2.0 chinois", "Texte."]) is not None
    assert guess_title(["Une phrase complète qui se termine par un point.", "Texte."]) is None
    assert guess_title(["Court"]) is None
    assert guess_title([]) is None


def test_repeats_are_dropped_whatever_their_case_punctuation_or_spacing() -> None:
    long = "Le commerce électronique transfrontalier progresse, selon le ministère. " * 8
    kept = clean_paragraphs(
        [
            "Un titre d'article assez long",
            "Photo : un entrepôt à Hangzhou.",
            long,
            "PHOTO — un entrepôt à Hangzhou",
            long.upper(),
            long.replace(",", " ;"),  # a long paragraph counts as a repeat only when written the same
        ],
        title="Un titre d'article, assez long !",
    )
    assert kept == ["Photo : un entrepôt à Hangzhou.", long, long.replace(",", " ;")]
