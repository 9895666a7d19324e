"""The quote as a PDF a company would send: letterhead, customer, lines, VAT summary, totals.

Every piece of user text goes through ``escape`` before it reaches a reportlab Paragraph (whose
markup is XML-like), and the fonts are the DejaVu TTFs shipped in ``quotes/fonts`` so accents and
symbols render on a machine without system fonts.
"""

from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from stdnum import iban as iban_number

from core.templatetags.crm import money

FONTS = Path(__file__).resolve().parent / "fonts"
FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
ACCENT = colors.HexColor("#1f4e79")
LIGHT = colors.HexColor("#eef3f8")


def _register_fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONTS / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10, textColor=colors.HexColor("#555555")),
        "company": ParagraphStyle(
            "company", parent=base, fontName=FONT_BOLD, fontSize=15, leading=18, textColor=ACCENT
        ),
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=13, leading=16),
        "label": ParagraphStyle("label", parent=base, fontName=FONT_BOLD, fontSize=8, textColor=ACCENT),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "bold": ParagraphStyle("bold", parent=base, fontName=FONT_BOLD),
        "right_bold": ParagraphStyle("right_bold", parent=base, alignment=TA_RIGHT, fontName=FONT_BOLD),
        "th": ParagraphStyle("th", parent=base, fontName=FONT_BOLD, textColor=colors.white, fontSize=8),
        "th_right": ParagraphStyle(
            "th_right", parent=base, fontName=FONT_BOLD, textColor=colors.white, fontSize=8, alignment=TA_RIGHT
        ),
    }


def _p(text, style) -> Paragraph:
    """A paragraph of user text: escaped, with newlines kept."""
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def _date(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else "—"


def _number(value, places=2) -> str:
    return formats.number_format(value, places, use_l10n=True, force_grouping=True)


def _percent(value) -> str:
    return f"{_number(value, 0) if value == value.to_integral() else _number(value)}%"


def _customer_lines(quote) -> list[str]:
    customer = quote.customer
    lines = []
    org = quote.organization or (quote.opportunity.organization if quote.opportunity else None)
    contact = quote.contact or (quote.opportunity.contact if quote.opportunity else None)
    if org is not None:
        lines.append(org.name)
        lines.extend(org.address_lines)
        if org.vat_number:
            lines.append(_("VAT no. %(vat)s") % {"vat": org.vat_number})
        # What an Italian customer needs to be invoiced: fiscal code, and the SDI code or PEC address
        # its electronic invoices go to.
        if org.fiscal_code:
            lines.append(_("Fiscal code %(code)s") % {"code": org.fiscal_code})
        if org.sdi_code:
            lines.append(_("SDI code %(code)s") % {"code": org.sdi_code})
        if org.pec:
            lines.append(_("PEC %(address)s") % {"address": org.pec})
    if contact is not None:
        lines.append((_("Attn. %(name)s") % {"name": contact.full_name}) if org is not None else contact.full_name)
        if contact.email:
            lines.append(contact.email)
    return lines or [str(customer or "")]


def _sender_lines() -> list[str]:
    """The sender's legal data under the letterhead: each is left out when its setting is empty."""
    lines = []
    if settings.CRM_COMPANY_VAT:
        lines.append(_("VAT no. %(vat)s") % {"vat": settings.CRM_COMPANY_VAT})
    if settings.CRM_COMPANY_FISCAL_CODE:
        lines.append(_("Fiscal code %(code)s") % {"code": settings.CRM_COMPANY_FISCAL_CODE})
    if settings.CRM_COMPANY_REA:
        lines.append(_("REA %(number)s") % {"number": settings.CRM_COMPANY_REA})
    if settings.CRM_COMPANY_SHARE_CAPITAL:
        lines.append(_("Share capital %(amount)s") % {"amount": settings.CRM_COMPANY_SHARE_CAPITAL})
    if settings.CRM_COMPANY_PEC:
        lines.append(_("PEC %(address)s") % {"address": settings.CRM_COMPANY_PEC})
    return lines


def _iban(value: str) -> str:
    """An IBAN in groups of four, as people copy it; printed as configured if it is not valid."""
    return iban_number.format(value) if iban_number.is_valid(value) else value


def _payment_lines() -> list[str]:
    terms = settings.CRM_QUOTE_PAYMENT_TERMS or _("Bank transfer, 30 days from the invoice date.")
    lines = [terms]
    if settings.CRM_COMPANY_IBAN:
        lines.append(
            _("IBAN %(iban)s, payable to %(company)s")
            % {"iban": _iban(settings.CRM_COMPANY_IBAN), "company": settings.CRM_COMPANY_NAME}
        )
    return lines


def _acceptance(quote, number: str, s, width) -> KeepTogether:
    """Where the customer signs the quote to accept it: date, then signature (and stamp)."""
    blank = ""
    table = Table(
        [
            [_p(_("Date"), s["small"]), blank, _p(_("Signature and company stamp"), s["small"]), blank],
        ],
        colWidths=[14 * mm, 40 * mm, 46 * mm, width - 100 * mm],
        rowHeights=[14 * mm],
        style=[
            ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ("LINEBELOW", (1, 0), (1, 0), 0.6, colors.black),
            ("LINEBELOW", (3, 0), (3, 0), 0.6, colors.black),
            ("LEFTPADDING", (0, 0), (0, 0), 0),
        ],
    )
    return KeepTogether(
        [
            Spacer(1, 8 * mm),
            _p(_("ACCEPTANCE"), s["label"]),
            _p(_("For acceptance of quote %(number)s and its terms.") % {"number": number}, s["base"]),
            _p(_("Customer: %(name)s") % {"name": quote.customer or ""}, s["small"]),
            table,
        ]
    )


def quote_pdf_render(*, quote, lines, totals, language: str | None = None) -> bytes:
    """The quote as PDF bytes (A4)."""
    _register_fonts()
    with translation.override(language or translation.get_language()):
        return _build(quote, lines, totals)


def _build(quote, lines, totals) -> bytes:
    s = _styles()
    cur = quote.currency
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{_('Quote')} {quote.number}",
        author=settings.CRM_COMPANY_NAME,
    )
    width = doc.width
    story = []

    company = [
        _p(settings.CRM_COMPANY_NAME, s["company"]),
        _p(settings.CRM_COMPANY_ADDRESS, s["small"]),
        *[_p(line, s["small"]) for line in _sender_lines()],
    ]
    number = quote.number if quote.sequence else _("DRAFT")
    meta = Table(
        [
            [_p(_("QUOTE"), s["label"]), _p(number, s["right_bold"])],
            [_p(_("Date"), s["small"]), _p(_date(quote.issue_date), s["right"])],
            [_p(_("Valid until"), s["small"]), _p(_date(quote.valid_until), s["right"])],
        ],
        colWidths=[28 * mm, 35 * mm],
        style=[
            ("BOX", (0, 0), (-1, -1), 0.6, ACCENT),
            ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ],
    )
    header = Table([[company, meta]], colWidths=[width - 66 * mm, 66 * mm])
    header.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
            ]
        )
    )
    story += [header, Spacer(1, 8 * mm)]

    customer = [_p(_("CUSTOMER"), s["label"]), *[_p(line, s["base"]) for line in _customer_lines(quote)]]
    subject = [_p(_("SUBJECT"), s["label"]), _p(quote.title, s["title"])]
    if quote.opportunity_id:
        subject.append(_p(_("Reference: %(deal)s") % {"deal": quote.opportunity.name}, s["small"]))
    story += [
        Table(
            [[subject, customer]],
            colWidths=[width * 0.55, width * 0.45],
            style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0)],
        ),
        Spacer(1, 6 * mm),
    ]

    rows = [
        [
            _p(_("Description"), s["th"]),
            _p(_("Qty"), s["th_right"]),
            _p(_("Unit price"), s["th_right"]),
            _p(_("Disc."), s["th_right"]),
            _p(_("VAT"), s["th_right"]),
            _p(_("Amount"), s["th_right"]),
        ]
    ]
    for line in lines:
        desc = [_p(line.description, s["base"])]
        if line.vat_exemption_note:
            desc.append(_p(line.vat_exemption_note, s["small"]))
        rows.append(
            [
                desc,
                _p(
                    formats.number_format(
                        line.quantity.normalize() if line.quantity == line.quantity.to_integral() else line.quantity,
                        use_l10n=True,
                    ),
                    s["right"],
                ),
                _p(money(line.unit_price, cur), s["right"]),
                _p(_percent(line.discount_percent) if line.discount_percent else "", s["right"]),
                _p(
                    _percent(line.vat_rate),
                    s["right"],
                ),
                _p(money(line.net_total, cur), s["right"]),
            ]
        )
    table = Table(rows, colWidths=[width - 96 * mm, 14 * mm, 26 * mm, 14 * mm, 14 * mm, 28 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, LIGHT]),
                ("LINEBELOW", (0, -1), (-1, -1), 0.6, ACCENT),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    story += [table, Spacer(1, 6 * mm)]

    vat_rows = [[_p(_("VAT rate"), s["th"]), _p(_("Taxable"), s["th_right"]), _p(_("VAT"), s["th_right"])]]
    for group in totals.groups:
        label = _percent(group.rate)
        cell = [_p(label, s["base"]), *[_p(note, s["small"]) for note in group.notes]]
        vat_rows.append([cell, _p(money(group.taxable, cur), s["right"]), _p(money(group.vat, cur), s["right"])])
    vat_table = Table(vat_rows, colWidths=[44 * mm, 28 * mm, 24 * mm])
    vat_table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#6c7a89")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, -1), (-1, -1), 0.4, colors.grey),
            ]
        )
    )
    totals_table = Table(
        [
            [_p(_("Subtotal"), s["base"]), _p(money(totals.subtotal, cur), s["right"])],
            [_p(_("VAT"), s["base"]), _p(money(totals.vat_total, cur), s["right"])],
            [_p(_("Total"), s["bold"]), _p(money(totals.total, cur), s["right_bold"])],
        ],
        colWidths=[30 * mm, 38 * mm],
        style=[("LINEABOVE", (0, 2), (-1, 2), 1, ACCENT), ("BACKGROUND", (0, 2), (-1, 2), LIGHT)],
    )
    story += [
        Table(
            [[vat_table, totals_table]],
            colWidths=[width - 70 * mm, 70 * mm],
            style=[
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
            ],
        ),
        Spacer(1, 8 * mm),
    ]

    if quote.valid_until:
        story.append(_p(_("This quote is valid until %(date)s.") % {"date": _date(quote.valid_until)}, s["base"]))
    payment = [_p(line, s["base"]) for line in _payment_lines()]
    story += [Spacer(1, 4 * mm), _p(_("PAYMENT TERMS"), s["label"]), *payment]
    for label, text in ((_("Notes"), quote.notes), (_("Terms and conditions"), quote.terms)):
        if text:
            story += [Spacer(1, 4 * mm), _p(label.upper(), s["label"]), _p(text, s["base"])]
    story.append(_acceptance(quote, number, s, width))

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.setFillColor(colors.HexColor("#777777"))
        text = f"{settings.CRM_COMPANY_NAME} · {settings.CRM_COMPANY_ADDRESS}"
        canvas.drawString(document.leftMargin, 10 * mm, text[:150])
        # Not in an f-string: makemessages cannot see a msgid there, so "Page" stayed English.
        page = _("%(number)s · Page %(page)s") % {"number": number, "page": document.page}
        canvas.drawRightString(A4[0] - document.rightMargin, 10 * mm, page)
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
