"""Tests of tools/mdconvert.py: MyST Markdown rewritten for Colab and JupyterLab.

Every expected string is written out by hand. A small fixture .bib covers the name cases (one, two,
three authors, accents, 'van der', no author, DOI and URL); the real references.bib and chapters
check that the book itself converts completely.
"""

import glob

import nbformat
import pytest

from conftest import ROOT
from tools import mdconvert

FIXTURE_BIB = r"""
@article{smith2020,
  title   = {A {Study} of Tests},
  author  = {Smith, John},
  journal = {Journal of Tests},
  year    = {2020},
  doi     = {https://doi.org/10.1000/xyz123}
}

@inproceedings{jones2019,
  title     = {Two Authors Write},
  author    = {Jones, Anna and M{\"u}ller, Klaus-Robert},
  booktitle = {Proceedings of Examples},
  year      = {2019},
  url       = {https://example.org/paper}
}

@misc{brown2021,
  title        = {Is Three {Many}?},
  author       = {Brown, Carl and Davis, Dana E. and van der Berg, Erik},
  howpublished = {Lecture notes},
  year         = {2021}
}

@techreport{anon2018,
  title       = {Anonymous Report},
  institution = {ACME},
  year        = {2018}
}
"""


@pytest.fixture(scope="module")
def bib(tmp_path_factory):
    path = tmp_path_factory.mktemp("bib") / "fixture.bib"
    path.write_text(FIXTURE_BIB, encoding="utf-8")
    return mdconvert.load_bibliography(path)


@pytest.fixture(scope="module")
def real_bib():
    return mdconvert.load_bibliography(ROOT / "references.bib")


def chapters():
    return sorted(glob.glob(str(ROOT / "solutions" / "*.ipynb")))


def markdown_cells(path):
    return [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown"]


# ---------------------------------------------------------------- the bibliography


def test_load_bibliography_decodes_latex_and_collects_fields(bib):
    assert bib["jones2019"] == {
        "key": "jones2019",
        "type": "inproceedings",
        "authors": ["Jones", "Müller"],
        "full_names": ["Anna Jones", "Klaus-Robert Müller"],
        "reference_names": ["Jones, A.", "Müller, K.-R."],
        "year": "2019",
        "title": "Two Authors Write",
        "venue": "Proceedings of Examples",
        "doi": "",
        "url": "https://example.org/paper",
    }
    assert bib["smith2020"]["title"] == "A Study of Tests"
    assert bib["smith2020"]["doi"] == "10.1000/xyz123"
    assert bib["brown2021"]["authors"] == ["Brown", "Davis", "van der Berg"]
    assert bib["brown2021"]["reference_names"] == ["Brown, C.", "Davis, D. E.", "van der Berg, E."]
    assert bib["brown2021"]["venue"] == "Lecture notes"
    assert bib["anon2018"]["authors"] == [] and bib["anon2018"]["venue"] == "ACME"


def test_real_bibliography_accents(real_bib):
    assert real_bib["santurkar2018how"]["authors"][-1] == "Mądry"
    assert real_bib["lecun1998efficient"]["reference_names"] == [
        "LeCun, Y.",
        "Bottou, L.",
        "Orr, G. B.",
        "Müller, K.-R.",
    ]
    assert real_bib["wu2021rethinking"]["title"] == "Rethinking “Batch” in BatchNorm"


# ---------------------------------------------------------------- citations


@pytest.mark.parametrize(
    "source, expected",
    [
        ("as shown {cite}`smith2020`.", "as shown (Smith, 2020)."),
        ("{cite}`smith2020,jones2019`", "(Smith, 2020; Jones and Müller, 2019)"),
        ("{cite}`smith2020, jones2019`", "(Smith, 2020; Jones and Müller, 2019)"),
        ("{cite:p}`brown2021`", "(Brown et al., 2021)"),
        ("{cite:ps}`brown2021`", "(Brown, Davis, and van der Berg, 2021)"),
        ("{cite:t}`jones2019` show", "Jones and Müller (2019) show"),
        ("{cite:t}`smith2020,brown2021`", "Smith (2020), Brown et al. (2021)"),
        ("{cite:ts}`brown2021`", "Brown, Davis, and van der Berg (2021)"),
        ("{cite:author}`jones2019`", "Jones and Müller"),
        ("{cite:author}`brown2021`", "Brown et al."),
        ("{cite:authors}`brown2021`", "Brown, Davis, and van der Berg"),
        ("{cite:year}`jones2019`", "2019"),
        ("{cite:p}`{see}smith2020{p. 3}`", "(see Smith, 2020, p. 3)"),
        ("{cite:t}`smith2020{ch. 2}`", "Smith (2020, ch. 2)"),
        ("{cite}`anon2018`", "(Anonymous Report, 2018)"),
        ("1 {cite}`smith2020`\n2 {cite:t}`jones2019`.", "1 (Smith, 2020)\n2 Jones and Müller (2019)."),
    ],
)
def test_citations(bib, source, expected):
    assert mdconvert.colab_markdown(source, bib) == expected


def test_citations_with_the_real_bibliography(real_bib):
    source = "Normalization {cite}`ioffe2015batch,he2016deep` and {cite:t}`ioffe2015batch`."
    expected = "Normalization (Ioffe and Szegedy, 2015; He et al., 2016) and Ioffe and Szegedy (2015)."
    assert mdconvert.colab_markdown(source, real_bib) == expected


def test_unknown_citation_key_is_named(bib):
    with pytest.raises(ValueError, match="nosuchkey2000"):
        mdconvert.colab_markdown("{cite}`smith2020,nosuchkey2000`", bib)
    with pytest.raises(ValueError, match="ghost1999"):
        mdconvert.colab_markdown("```{bibliography}\n```", bib, cited_keys=["ghost1999"])


def test_cited_keys_in_order_of_first_appearance_outside_code():
    sources = [
        "{cite}`b,a` then {cite:t}`b`",
        "`{cite}`inline_code`` and\n```python\n{cite}`in_fence`\n```\n",
        ":::{note}\n{cite:p}`c`\n:::",
        "{cite}`a,d`",
    ]
    assert mdconvert.cited_keys(sources) == ["b", "a", "c", "d"]
    assert mdconvert.cited_keys([]) == []


# ---------------------------------------------------------------- admonitions


def test_dropdown_admonition_becomes_details(bib):
    source = (
        ":::{admonition} Answer to Exercise 01.2\n:class: dropdown\n\n"
        "First $x$ line,\nsecond.\n\n$$\ny = 1\n$$\n:::\n\n### Next"
    )
    expected = (
        "<details><summary><b>Answer to Exercise 01.2</b></summary>\n"
        "\n"
        "First $x$ line,\n"
        "second.\n"
        "\n"
        "$$\n"
        "y = 1\n"
        "$$\n"
        "\n"
        "</details>\n"
        "\n"
        "### Next"
    )
    assert mdconvert.colab_markdown(source, bib) == expected


def test_dropdown_without_blank_line_after_the_option(bib):
    source = "Intro\n:::{admonition} Answer\n:class: dropdown\n**B.** Because {cite}`smith2020`.\n:::"
    expected = (
        "Intro\n<details><summary><b>Answer</b></summary>\n\n**B.** Because (Smith, 2020).\n\n</details>"
    )
    assert mdconvert.colab_markdown(source, bib) == expected


def test_admonition_with_another_class_becomes_blockquote(bib):
    source = ":::{admonition} Why it works\n:class: tip\n\nOne.\n\nTwo, see {cite:t}`jones2019`.\n:::\n"
    expected = "> **Why it works**\n>\n> One.\n>\n> Two, see Jones and Müller (2019).\n"
    assert mdconvert.colab_markdown(source, bib) == expected


def test_admonition_title_may_cite(bib):
    source = ":::{admonition} After {cite:t}`smith2020`\nBody.\n:::"
    assert mdconvert.colab_markdown(source, bib) == "> **After Smith (2020)**\n>\n> Body."


@pytest.mark.parametrize(
    "name, title",
    [
        ("note", "Note"),
        ("tip", "Tip"),
        ("warning", "Warning"),
        ("important", "Important"),
        ("hint", "Hint"),
        ("seealso", "See also"),
    ],
)
def test_named_admonitions(bib, name, title):
    source = f":::{{{name}}}\nRead this.\n:::"
    assert mdconvert.colab_markdown(source, bib) == f"> **{title}**\n>\n> Read this."


def test_backtick_named_admonition_with_text_on_the_opening_line(bib):
    source = "```{warning} Mind the gap.\nIt is wide.\n```"
    assert mdconvert.colab_markdown(source, bib) == "> **Warning**\n>\n> Mind the gap.\n> It is wide."


def test_named_admonition_as_dropdown(bib):
    source = "```{hint}\n:class: dropdown\nTry $n = 2$.\n```"
    expected = "<details><summary><b>Hint</b></summary>\n\nTry $n = 2$.\n\n</details>"
    assert mdconvert.colab_markdown(source, bib) == expected


def test_nested_admonitions(bib):
    source = "::::{admonition} Outer\n:class: dropdown\n\nText.\n\n:::{note}\nInner.\n:::\n::::"
    expected = "<details><summary><b>Outer</b></summary>\n\nText.\n\n> **Note**\n>\n> Inner.\n\n</details>"
    assert mdconvert.colab_markdown(source, bib) == expected


def test_code_fence_inside_admonition_is_quoted_unchanged(bib):
    source = ":::{note}\n```python\nx = {cite}`not_a_key`\n```\n:::"
    expected = "> **Note**\n>\n> ```python\n> x = {cite}`not_a_key`\n> ```"
    assert mdconvert.colab_markdown(source, bib) == expected


def test_admonition_in_a_list_item_keeps_its_indentation(bib):
    source = "- item\n\n  :::{tip}\n  Indented.\n  :::\n- next"
    expected = "- item\n\n  > **Tip**\n  >\n  > Indented.\n- next"
    assert mdconvert.colab_markdown(source, bib) == expected


def test_dropdown_title_is_html_escaped(bib):
    source = ":::{admonition} If a < b & c\n:class: dropdown\nYes.\n:::"
    expected = "<details><summary><b>If a &lt; b &amp; c</b></summary>\n\nYes.\n\n</details>"
    assert mdconvert.colab_markdown(source, bib) == expected


# ---------------------------------------------------------------- the bibliography directive

FIXTURE_REFERENCES = (
    "- Brown, C., Davis, D. E. and van der Berg, E. (2021). Is Three Many? *Lecture notes*.\n"
    "- Jones, A. and Müller, K.-R. (2019). Two Authors Write. *Proceedings of Examples*."
    " <https://example.org/paper>\n"
    "- Smith, J. (2020). A Study of Tests. *Journal of Tests*."
    " [doi:10.1000/xyz123](https://doi.org/10.1000/xyz123)"
)


def test_bibliography_lists_the_given_keys_alphabetically(bib):
    source = "## References\n\n```{bibliography}\n:filter: docname in docnames\n```"
    keys = ["smith2020", "jones2019", "brown2021", "smith2020"]
    result = mdconvert.colab_markdown(source, bib, cited_keys=keys)
    assert result == "## References\n\n" + FIXTURE_REFERENCES


def test_bibliography_defaults_to_the_keys_cited_in_the_cell(bib):
    source = "See {cite}`jones2019`.\n\n```{bibliography}\n```\n"
    expected = (
        "See (Jones and Müller, 2019).\n\n"
        "- Jones, A. and Müller, K.-R. (2019). Two Authors Write. *Proceedings of Examples*."
        " <https://example.org/paper>\n"
    )
    assert mdconvert.colab_markdown(source, bib) == expected


def test_bibliography_entry_without_author(bib):
    result = mdconvert.colab_markdown("```{bibliography}\n```", bib, cited_keys=["anon2018"])
    assert result == "- Anonymous Report (2018). *ACME*."


def test_bibliography_all_option_and_yaml_options(bib):
    source = "```{bibliography}\n---\nall:\nstyle: plain\n---\n```"
    assert mdconvert.colab_markdown(source, bib, cited_keys=[]) == (
        "- Anonymous Report (2018). *ACME*.\n" + FIXTURE_REFERENCES
    )


def test_bibliography_with_the_real_references(real_bib):
    result = mdconvert.colab_markdown(
        ":::{bibliography}\n:filter: docname in docnames\n:::",
        real_bib,
        cited_keys=["santurkar2018how", "ioffe2015batch", "ioffe2017batch"],
    )
    assert result == (
        "- Ioffe, S. (2017). Batch Renormalization: Towards Reducing Minibatch Dependence in Batch-Normalized"
        " Models. *Advances in Neural Information Processing Systems 30 (NeurIPS)*."
        " <https://arxiv.org/abs/1702.03275>\n"
        "- Ioffe, S. and Szegedy, C. (2015). Batch Normalization: Accelerating Deep Network Training by"
        " Reducing Internal Covariate Shift. *Proceedings of the 32nd International Conference on Machine"
        " Learning (ICML)*. <https://proceedings.mlr.press/v37/ioffe15.html>\n"
        "- Santurkar, S., Tsipras, D., Ilyas, A. and Mądry, A. (2018). How Does Batch Normalization Help"
        " Optimization? *Advances in Neural Information Processing Systems 31 (NeurIPS)*."
        " <https://arxiv.org/abs/1805.11604>"
    )


# ---------------------------------------------------------------- other roles and labels


@pytest.mark.parametrize(
    "source, expected",
    [
        ("by {eq}`eq-bn-forward`", "by (eq-bn-forward)"),
        ("the value {math}`\\sqrt{2/n}` here", "the value $\\sqrt{2/n}$ here"),
        ("see {ref}`the derivation <sec-derivation>`", "see the derivation"),
        ("see {ref}`sec-derivation`", "see sec-derivation"),
        ("{numref}`Figure %s <fig-loss>` shows", "Figure fig-loss shows"),
        ("{numref}`fig-loss` shows", "fig-loss shows"),
        ("chapter {doc}`batch norm <06_batch_norm>`", "chapter batch norm"),
        ("a {term}`mini-batch` and {term}`epochs <epoch>`", "a mini-batch and epochs"),
    ],
)
def test_reference_roles(bib, source, expected):
    assert mdconvert.colab_markdown(source, bib) == expected


def test_label_lines_are_removed(bib):
    source = "(sec-intro)=\n## Introduction\n\nText.\n\n(fig-loss)=\n:::{note}\nN.\n:::\n"
    expected = "## Introduction\n\nText.\n\n> **Note**\n>\n> N.\n"
    assert mdconvert.colab_markdown(source, bib) == expected


# ---------------------------------------------------------------- what must not change

UNCHANGED = [
    "# Title\n\nPlain *text* with **bold**, a [link](https://example.org) and a list:\n\n- one\n- two\n",
    "Inline $a_{i} = \\{x : x > 0\\}$ and display\n\n$$\n\\frac{1}{n}\\sum_i x_i\n$$\n",
    '<div align="center"><img src="x.png" alt="{cite}"></div>\n\n&nbsp; text',
    "Use ``{cite}`x` `` and `` {eq}`y` `` literally, or `:::{note}`.",
    "```python\n{cite}`key`\n:::{note}\n(label)=\n```\n\n~~~\n```{foo}\n~~~\n",
    "````markdown\n```{bibliography}\n```\n````",
    "An escaped \\{cite}`x` is inline code, and a lone ` backtick is text.",
    "Trailing spaces  \nand a final newline\n",
    "",
]


@pytest.mark.parametrize("source", UNCHANGED)
def test_everything_else_is_unchanged(bib, source):
    assert mdconvert.colab_markdown(source, bib) == source


def test_a_stray_backtick_does_not_hide_a_role_in_the_next_paragraph(bib):
    source = "A ` alone.\n\nThen {cite}`smith2020` and a ` again."
    assert mdconvert.colab_markdown(source, bib) == "A ` alone.\n\nThen (Smith, 2020) and a ` again."


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "source, name",
    [
        ("```{figure} plot.png\n:width: 50%\n```", "figure"),
        (":::{foo}\ntext\n:::", "foo"),
        ("::::{admonition} Outer\n:::{margin}\nside\n:::\n::::", "margin"),
        ("see {abbr}`NN (neural network)`", "abbr"),
        ("see {sub-ref}`x`", "sub-ref"),
    ],
)
def test_unknown_directive_or_role_is_named(bib, source, name):
    with pytest.raises(ValueError, match=name):
        mdconvert.colab_markdown(source, bib)


@pytest.mark.parametrize(
    "source",
    [
        ":::{note}\nnever closed",
        ":::\nbare colon fence\n:::",
        ":::{admonition}\nno title\n:::",
        "{cite}`a b`",
    ],
)
def test_malformed_myst_raises(bib, source):
    with pytest.raises(ValueError):
        mdconvert.colab_markdown(source, bib)


# ---------------------------------------------------------------- idempotence and the real chapters

CONVERTIBLE = [
    "{cite}`smith2020,jones2019` and {cite:t}`brown2021`",
    ":::{admonition} Answer\n:class: dropdown\n\nBody {cite}`smith2020`.\n:::",
    "::::{admonition} Outer\n:class: note\n\n:::{tip}\nInner\n:::\n::::",
    "(lbl)=\n## Refs\n\n```{bibliography}\n:filter: docname in docnames\n```",
    "{math}`x^2` by {eq}`e1`",
]


@pytest.mark.parametrize("source", CONVERTIBLE + UNCHANGED)
def test_idempotent(bib, source):
    once = mdconvert.colab_markdown(source, bib, cited_keys=["smith2020"])
    assert mdconvert.colab_markdown(once, bib, cited_keys=["smith2020"]) == once


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.rsplit("/", 1)[-1])
def test_every_chapter_converts_completely(real_bib, path):
    sources = markdown_cells(path)
    keys = mdconvert.cited_keys(sources)
    assert keys, "every chapter cites something"
    for source in sources:
        result = mdconvert.colab_markdown(source, real_bib, keys)
        for myst in ("{cite", ":::", "```{", ":filter:"):
            assert myst not in result, f"{myst!r} left in:\n{result}"
        assert mdconvert.colab_markdown(result, real_bib, keys) == result
        if not any(marker in source for marker in ("{", ":::", ")=")):
            assert result == source
        if "```{bibliography}" in source:
            references = result.split("## References", 1)[1]
            listed = [line for line in references.split("\n") if line.startswith("- ")]
            assert len(listed) == len(keys)
            for key in keys:
                assert any(real_bib[key]["title"] in line for line in listed), key
