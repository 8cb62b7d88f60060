"""Writes the PDF fixtures `rapport.pdf` (French text on two pages, with a title in its metadata) and `scan.pdf`
(a page with a drawing and no text, as a scanned document has).

Run once from this folder when the fixtures must change: `pip install fpdf2 && python make_pdfs.py`. fpdf2 is a
tool for making these files only; neither the bot nor its tests need it.
"""

from __future__ import annotations

import datetime as dt

from fpdf import FPDF

PARAGRAPHS = [
    [
        "Rapport annuel du réseau des bibliothèques",
        "En 2023, les cinq bibliothèques du réseau ont accueilli 184 000 visiteurs, soit une hausse de 12 % par "
        "rapport à l'année précédente. Les prêts de bandes dessinées ont progressé plus vite que tous les autres.",
        "Le portage de livres à domicile, lancé en janvier, a bénéficié à 96 lecteurs âgés ou à mobilité réduite.",
    ],
    [
        "Perspectives pour 2024",
        "Le réseau prévoit d'ouvrir une ludothèque dans l'annexe du quartier des Tilleuls et d'élargir les horaires "
        "du samedi. Une navette reliera les bibliothèques rurales une fois par semaine.",
    ],
]
FIXED_DATE = dt.datetime(2024, 1, 31, tzinfo=dt.UTC)  # the same bytes at every run


def rapport() -> None:
    pdf = FPDF()
    pdf.set_title("Rapport annuel 2023 des bibliothèques")
    pdf.set_author("Réseau des bibliothèques de Villeneuve")
    pdf.set_creation_date(FIXED_DATE)
    for page in PARAGRAPHS:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(0, 10, page[0])
        pdf.set_font("Helvetica", size=12)
        for paragraph in page[1:]:
            pdf.ln(4)
            pdf.multi_cell(0, 7, paragraph)
    pdf.output("rapport.pdf")


def scan() -> None:
    pdf = FPDF()
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_page()
    pdf.set_fill_color(120, 120, 120)
    pdf.rect(20, 20, 170, 240, style="F")
    pdf.output("scan.pdf")


if __name__ == "__main__":
    rapport()
    scan()
