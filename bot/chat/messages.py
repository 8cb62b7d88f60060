"""Every French text the bot shows on Discord: replies, refusals, embed labels, and the small helpers that word them.

Kept in one module so wording can be reviewed and changed without reading the Discord code.
"""

from __future__ import annotations

import math

from bot.storage import GuildSettings
from bot.text.answers import percent

# -- slash commands: the descriptions Discord shows in its command picker --

QUESTION_COMMAND = "Poser une question : réponse citée du corpus, avec sa source"
QUESTION_OPTIONS = {"texte": "Votre question, en français"}
ASK_MENU = "Demander au bot"  # right click on a message → Apps: that message's text asked as a question
FORGET_COMMAND = "Effacer tout ce que le bot a enregistré sur vous sur ce serveur"
ADMIN_GROUP = "Commandes des modérateurs du bot de questions"
CHANNELS_GROUP = "Salons où le bot répond aux mentions"
STATS_COMMAND = "Statistiques des questions de ce serveur"
STATS_OPTIONS = {"periode": "Période couverte (par défaut : depuis le début)"}
PERIOD_CHOICES = {
    "jour": "dernières 24 heures",
    "semaine": "7 derniers jours",
    "mois": "30 derniers jours",
    "tout": "depuis le début",
}
HISTORY_COMMAND = "Dernières questions posées sur ce serveur"
HISTORY_OPTIONS = {
    "utilisateur": "Seulement les questions de ce membre",
    "non_trouvees": "Seulement les questions restées sans réponse",
}
EXPORT_COMMAND = "Exporter le journal des questions de ce serveur (CSV)"
REINDEX_COMMAND = "Recharger le corpus depuis le disque, sans redémarrer"
SETTINGS_COMMAND = "Voir ou changer les réglages du bot sur ce serveur"
SETTINGS_OPTIONS = {
    "reponses_privees": "Réponses à /question visibles seulement par la personne qui demande",
    "fils": "Répondre aux mentions dans un fil plutôt qu'en réponse au message",
    "limite": "Nombre de questions permises par membre dans la fenêtre",
    "fenetre": "Durée de la fenêtre de limite, en secondes",
    "retention_jours": "Effacer les questions enregistrées après ce nombre de jours (0 : jamais)",
    "forum_auto": "Répondre seul aux nouveaux sujets des forums autorisés, si la réponse est sûre ou probable",
}
PURGE_COMMAND = "Effacer les questions enregistrées depuis plus de N jours"
PURGE_OPTIONS = {"jours": "Âge minimal, en jours, des questions à effacer"}
CHANNEL_ADD_COMMAND = "Répondre aux mentions du bot dans ce salon"
CHANNEL_ADD_OPTIONS = {"salon": "Le salon à ajouter"}
CHANNEL_REMOVE_COMMAND = "Ne plus répondre aux mentions du bot dans ce salon"
CHANNEL_REMOVE_OPTIONS = {"salon": "Le salon à retirer"}
CHANNEL_LIST_COMMAND = "Salons où le bot répond aux mentions"
DOCUMENTS_GROUP = "Documents propres à ce serveur, cités en plus du corpus commun"
DOCUMENT_ADD_COMMAND = "Ajouter un document (fichier joint ou adresse web) aux réponses de ce serveur"
DOCUMENT_ADD_OPTIONS = {
    "fichier": "Un fichier .txt, .md, .html, .pdf, ou .jsonl pour plusieurs documents",
    "adresse": "L'adresse d'une page web (https://…)",
}
DOCUMENT_LIST_COMMAND = "Documents ajoutés sur ce serveur"
DOCUMENT_REMOVE_COMMAND = "Retirer un document de ce serveur"
DOCUMENT_REMOVE_OPTIONS = {"document": "Le document à retirer (tapez une partie de son titre)"}

# -- errors and refusals --

APOLOGY = "Désolé, une erreur m'a empêché de répondre. Elle a été consignée : réessayez dans un instant."
MISSING_PERMISSION = "Cette commande est réservée aux modérateurs (permission « Gérer le serveur »)."
GUILD_ONLY = "Cette commande ne s'utilise que sur un serveur."
CHECK_FAILED = "Vous ne pouvez pas utiliser cette commande ici."

# -- asking --

EMPTY_SLASH_QUESTION = (
    "Votre question est vide : écrivez-la dans l'option « texte », par exemple « Qui dirige Alibaba ? »."
)
EMPTY_MENTION_QUESTION = (
    "Écrivez votre question juste après la mention, par exemple : « @{name} Qui dirige Alibaba ? »."
)
DM_HINT = "Pour me poser une question, utilisez la commande /question."

# -- feedback buttons --

THANKS = "Merci pour votre avis {emoji} ! Vous pouvez le changer à tout moment en cliquant sur l'autre bouton."
VOTE_REFUSED = "Ce vote n'a pas pu être enregistré : la question a peut-être été effacée entre-temps."

# -- /oubli --

ASK_CONFIRMATION = (
    "Vous allez effacer toutes vos questions et tous vos votes enregistrés sur ce serveur. "
    "Cette action est définitive. Confirmez-vous ?"
)
NOT_YOURS = "Seule la personne qui a demandé l'effacement peut le confirmer."
CANCELLED = "Effacement annulé : rien n'a été supprimé."
CONFIRM_LABEL = "Tout effacer"
CANCEL_LABEL = "Annuler"

# -- /admin --

NOT_YOUR_PAGER = "Seul le modérateur qui a ouvert cet historique peut en tourner les pages."
EXPORT_READY = "Voici le journal des questions de ce serveur."
REINDEX_RUNNING = "Une réindexation est déjà en cours : réessayez dans un moment."
REINDEX_FAILED = "La réindexation a échoué ; l'index précédent reste en service.\nErreur : {error}"
REINDEX_INTERNAL = "erreur interne du bot, consignée dans son journal pour la personne qui l'héberge."
SETTINGS_SAVED = "Réglages enregistrés."
ASKED_BY = "Question de {member}"  # above the answer to « Demander au bot », without pinging the member
EMPTY_MENU_QUESTION = "Ce message ne contient pas de texte à lire comme une question."
CHANNEL_ELSEWHERE = "Ce salon n'appartient pas à ce serveur."
CHANNEL_NOT_WRITTEN = "{channel} n'est pas un salon écrit : choisissez un salon textuel ou un forum."
CHANNEL_ADDED = "Le bot répondra désormais aux mentions dans {channel}."
CHANNEL_ALREADY = "{channel} fait déjà partie des salons où le bot répond."
CHANNEL_REMOVED = "Le bot ne répondra plus aux mentions dans {channel}."
CHANNEL_ABSENT = "{channel} ne faisait pas partie des salons où le bot répond."
NO_CHANNELS = "Le bot ne répond aux mentions dans aucun salon. Ajoutez-en avec /admin salons ajouter."
CHANNELS = "Le bot répond aux mentions dans : {channels}"
NOT_YOUR_DOCUMENT_LIST = "Seul le modérateur qui a ouvert cette liste peut en tourner les pages."
DOCUMENT_ONE_SOURCE = (
    "Donnez un fichier joint (option « fichier ») ou une adresse web (option « adresse ») : l'un des deux, "
    "pas les deux."
)
DOCUMENT_REFUSED = "Rien n'a été ajouté. {reason}"
DOCUMENT_EXISTS = (
    "Ce serveur a déjà un document nommé {names} : retirez-le d'abord avec /admin documents retirer, "
    "ou renommez le fichier."
)
ADDS_BUSY_SERVER = (
    "{count} ajouts de documents sont déjà en cours sur ce serveur : attendez qu'ils se terminent, puis réessayez."
)
ADDS_BUSY_MEMBER = "Vous avez déjà {count} ajouts de documents en cours : attendez qu'ils se terminent, puis réessayez."
DOCUMENT_ABSENT = "Ce serveur n'a pas de document n° {id} : voyez /admin documents liste."
DOCUMENT_REMOVED = "Document « {title} » retiré : le bot ne le cite plus sur ce serveur."
DOCUMENTS_TITLE = "Documents de ce serveur"
DOCUMENTS_EMPTY = "Aucun document ajouté sur ce serveur. Ajoutez-en avec /admin documents ajouter."
DOCUMENTS_FOOTER = "Page {page}/{pages} · {count} · {size} de texte"
DOCUMENT_LINE = "`n° {id}` **{title}**\n{source} · ajouté {when} par <@{user}>"

# -- embed labels --

SOURCE = "Source"
OTHER_SOURCE = "Autre source"
CLOSEST_DOCUMENT = "Document le plus proche"
CONFIDENCE = "Confiance : {label} ({percent})"
STATS_TITLE = "Statistiques des questions"
STATS_PERIOD = "Période : {scope}."
ALL_TIME = "depuis le début"
PERIODS = {"jour": "les dernières 24 heures", "semaine": "les 7 derniers jours", "mois": "les 30 derniers jours"}
STATS_VOLUMES = "Aujourd'hui : {today}\n7 derniers jours : {week}\nSur la période : {total}"
STATS_ALL_TIME = "Depuis le début : {count}"
STATS_QUESTIONS = "Questions"
STATS_ANSWERS = "Réponses"
STATS_FOUND = "Trouvées : {count} ({percent})"
STATS_NOT_FOUND = "Non trouvées : {count}"
STATS_ERRORS = "Erreurs : {count}"
STATS_SMALLTALK = "Politesses et questions sur le bot : {count}"
STATS_VOTES = "Avis"
STATS_LATENCY = "Temps de réponse"
STATS_LATENCY_VALUE = "Médiane : {p50:.0f} ms\n95e centile : {p95:.0f} ms"
STATS_TOP_QUESTIONS = "Questions les plus posées"
STATS_TOP_DOCUMENTS = "Documents les plus cités"
STATS_UNANSWERED = "Sans réponse (à ajouter au corpus ?)"
CHART_QUESTIONS = "Questions par jour"
CHART_ANSWERED = "Part des réponses trouvées"
CHART_TITLE = "Questions par jour — {scope}"
CHART_VOTES = "Avis : {up} pour, {down} contre"
CHART_EMPTY = "Aucune question sur la période"
HISTORY_TITLE = "Historique des questions"
HISTORY_EMPTY = "Aucune question enregistrée."
HISTORY_FOOTER = "Page {page}/{pages} · {count}"


def plural(n: int, word: str) -> str:
    """French count with a regular plural: "1 question", "3 questions", "0 vote"."""
    return f"{n} {word}" + ("s" if n > 1 else "")


def sentence_vectors(built: int, count: int) -> str:
    """`/admin stats`: how far the background build of the corpus's sentence vectors is (answers take longer
    until it is done: each quoted sentence is embedded when answering)."""
    if built >= count:
        return f"Vecteurs de phrases du corpus : prêts ({_grouped(count)} phrases)."
    return (
        f"Vecteurs de phrases du corpus : {percent(built / count)} ({_grouped(built)} / {_grouped(count)} phrases), "
        "calcul en arrière-plan ; les réponses sont un peu plus lentes d'ici là."
    )


def _grouped(number: int) -> str:
    """12345 -> « 12 345 », digits grouped by thousands as French writes them (narrow no-break space)."""
    return f"{number:,}".replace(",", "\u202f")


def spooled(count: int) -> str:
    """`/admin stats`: questions of this server answered while the database was away, not yet in the figures."""
    if count == 1:
        return (
            "1 question posée pendant une panne de la base de données attend d'y être enregistrée : "
            "elle ne compte pas encore dans ces chiffres."
        )
    return (
        f"{count} questions posées pendant une panne de la base de données attendent d'y être enregistrées : "
        "elles ne comptent pas encore dans ces chiffres."
    )


def seconds_text(seconds: float) -> str:
    """French duration rounded up: "1 seconde", "45 secondes", "2 minutes"."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return plural(whole, "seconde")
    return plural(math.ceil(whole / 60), "minute")


def rate_limited(retry_after: float) -> str:
    """Private message for a user who asked too many questions in a short time."""
    wait = seconds_text(retry_after)
    return f"Vous avez posé beaucoup de questions en peu de temps : vous pourrez réessayer dans {wait}."


def reindexed(documents: int, passages: int, seconds: float) -> str:
    """`/admin reindexer` succeeded: the new corpus size and how long it took (decimal comma)."""
    duration = f"{seconds:.1f}".replace(".", ",")
    return f"Corpus rechargé : {plural(documents, 'document')}, {plural(passages, 'passage')} (en {duration} s)."


def purged(deleted: int, days: int) -> str:
    """`/admin purger`: how many questions older than `days` days went."""
    return f"{plural(deleted, 'question')} de plus de {plural(days, 'jour')} " + (
        "effacées." if deleted > 1 else "effacée."
    )


def forgotten(queries: int, votes: int) -> str:
    """`/oubli` confirmed: how many questions and votes were erased."""
    return f"C'est fait : {plural(queries, 'question')} et {plural(votes, 'vote')} effacés."


def settings_text(settings: GuildSettings, default_count: int, default_seconds: float, default_days: int) -> str:
    """`/admin reglages`: the server's settings in French, defaults named as such."""
    count = settings.rate_limit_count or default_count
    seconds = settings.rate_limit_seconds or default_seconds
    days = settings.retention_days if settings.retention_days is not None else default_days
    retention = "conservées sans limite" if days == 0 else f"effacées après {plural(days, 'jour')}"
    return "\n".join(
        [
            "Réglages du serveur :",
            "- Réponses à /question : "
            + ("privées (vues par la seule personne qui demande)" if settings.ephemeral else "publiques"),
            f"- Réponses aux mentions : {'dans un fil' if settings.use_threads else 'en réponse au message'}",
            f"- Limite : {plural(count, 'question')} par {seconds_text(seconds)} et par membre",
            f"- Questions enregistrées : {retention}",
            "- Nouveaux sujets des forums autorisés : "
            + ("réponse automatique (sûre ou probable)" if settings.forum_auto else "pas de réponse automatique"),
        ]
    )


def documents_added(titles: list[str], passages: int) -> str:
    """`/admin documents ajouter` succeeded: what was added and how many passages the bot can now quote from it."""
    shown = ", ".join(f"« {title} »" for title in titles[:5]) + (" …" if len(titles) > 5 else "")
    return (
        f"{plural(len(titles), 'document')} ajouté{'s' if len(titles) > 1 else ''} : {shown}. "
        f"{plural(passages, 'passage')} indexé{'s' if passages > 1 else ''} ; le bot les cite dès maintenant "
        "sur ce serveur, et seulement ici."
    )


def file_too_large(name: str, size: str, limit: str) -> str:
    """An attachment over the size limit, refused before it is downloaded."""
    return f"{name} : le fichier fait {size}, au-delà de la limite de {limit}. Découpez-le en plusieurs fichiers."
