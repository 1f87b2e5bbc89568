"""What a post refers to, checked before upload (blogctl/references.py): on disk, then in the blog."""
from __future__ import annotations

from pathlib import Path

from blogctl import cli
from blogctl.references import Known, check_references
from conftest import source


def findings(path: Path, known: Known | None = None) -> list[str]:
    _, _, post = cli.parse_file(path)
    assert post is not None
    return [str(f) for f in cli.reference_findings(path, post, known or Known())]


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def test_a_bundles_images_are_the_files_beside_it(tmp_path):
    post = write(tmp_path / "content/posts/trip/index.md", source("Trip", body="![map](map.png)"))
    assert findings(post) == [f"{post}:6: image 'map.png' not found: put the file at "
                              f"{tmp_path}/content/posts/trip/map.png"]
    write(tmp_path / "content/posts/trip/map.png", b"png")
    assert findings(post) == []


def test_another_posts_image_is_looked_for_in_its_folder_then_in_the_bucket(tmp_path):
    post = write(tmp_path / "content/posts/a.md", source("A", body="![x](/assets/b/pic.png)"))
    assert "image '/assets/b/pic.png' not found" in findings(post)[0]
    assert findings(post, Known(asset=lambda key: key == "assets/b/pic.png")) == []
    write(tmp_path / "content/assets/b/pic.png", b"png")
    assert findings(post) == []


def test_an_image_the_blog_does_not_serve_is_an_error(tmp_path):
    post = write(tmp_path / "content/posts/a.md", source("A", body="![x](/images/pic.png)"))
    assert findings(post) == [f"{post}:6: image '/images/pic.png' is not a file of the blog: put it in "
                              "content/assets/a/ and write ![…](pic.png)"]


def test_images_elsewhere_are_not_checked(tmp_path):
    post = write(tmp_path / "content/posts/a.md",
                 source("A", body="![x](https://example.org/x.png) ![y](data:image/png;base64,AAAA)"))
    assert findings(post) == []


def test_the_front_matters_image_is_checked_on_its_line(tmp_path):
    post = write(tmp_path / "content/posts/a.md", source("A", images=["cover.png"]))
    assert findings(post) == [f"{post}:4: image 'cover.png' not found: put the file at "
                              f"{tmp_path}/content/assets/a/cover.png"]


def test_a_relative_link_to_a_markdown_file_must_find_it(tmp_path):
    post = write(tmp_path / "content/posts/a.md", source("A", body="See [b](b.md#part)."))
    assert findings(post) == [f"{post}:6: links to 'b.md#part', but {tmp_path}/content/posts/b.md does not exist"]
    write(tmp_path / "content/posts/b.md", source("B"))
    assert findings(post) == []


def test_offline_a_link_to_a_post_on_disk_is_fine_and_others_are_warnings(tmp_path):
    post = write(tmp_path / "content/posts/a.md", source("A", body="[b](/posts/b) [c](/posts/c/)"))
    write(tmp_path / "content/posts/2020-01-01-b.md", source("B"))
    found = cli.reference_findings(post, cli.parse_file(post)[2], Known(on_disk=cli.slugs_on_disk([post])))
    assert [(f.fatal, f.message) for f in found] == [
        (False, "links to /posts/c, which is not among the posts here (`publish` checks the blog)")]


def test_an_old_url_of_a_post_is_a_good_link(tmp_path):
    post = write(tmp_path / "content/posts/a.md", source("A", body="[b](/posts/old-b)"))
    known = Known(post=lambda slug: None, old_url=lambda path: path == "/posts/old-b")
    assert findings(post, known) == []
    gone = Known(post=lambda slug: "deleted", old_url=lambda path: False)
    assert findings(post, gone) == [f"{post}:6: links to /posts/old-b, which was deleted"]


def test_an_invalid_post_has_no_references_to_check(tmp_path):
    path = write(tmp_path / "posts/bad.md", b"---\ntitle: [\n---\n![x](missing.png)\n")
    assert check_references(path, path.read_bytes(), "posts/bad.md", "bad", set(), Known(), None) == []
