#include "io/output_file.h"

#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/io/temp_dir.h"

namespace spikevid {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using test::TempDir;

TEST_CASE("output file: written as a .part file, renamed into place by commit", "[io][output]") {
  TempDir dir;
  const auto path = dir.file("out.mp4");
  test::write_bytes(path, "old");
  {
    OutputFile f(path, {});
    CHECK(f.part_path().rfind(path + ".part-", 0) == 0);
    CHECK(fs::exists(dir.file(".out.mp4.lock")));
    test::write_bytes(f.part_path(), "new");
    CHECK(test::read_bytes(path) == "old");  // the old file stays until the new one is finalized
    f.commit();
    CHECK_FALSE(fs::exists(f.part_path()));
    CHECK_FALSE(fs::exists(dir.file(".out.mp4.lock")));
  }
  CHECK(test::read_bytes(path) == "new");
  {  // discard: the old file as it was, no .part left
    OutputFile f(path, {});
    test::write_bytes(f.part_path(), "half");
    f.discard();
    CHECK_FALSE(fs::exists(f.part_path()));
  }
  CHECK(test::read_bytes(path) == "new");
  std::string part;
  {  // neither (a crash): the .part file stays for the user; the lock goes
    OutputFile f(path, {});
    part = f.part_path();
    test::write_bytes(part, "partial");
  }
  CHECK(test::read_bytes(part) == "partial");
  CHECK_FALSE(fs::exists(dir.file(".out.mp4.lock")));
}

TEST_CASE("output file: never an input, through links too; one writer at a time", "[io][output]") {
  TempDir dir;
  const auto in = dir.file("in.mp4"), link = dir.file("link.mp4");
  test::write_bytes(in, "precious");
  fs::create_symlink(in, link);
  CHECK_THROWS_WITH(OutputFile(in, {in}), Contains("is the input"));
  CHECK_THROWS_WITH(OutputFile(link, {in}), Contains("is the input"));
  CHECK_THROWS_WITH(OutputFile(dir.file("a/b.mp4"), {}), Contains("does not exist"));
  CHECK(test::read_bytes(in) == "precious");
  OutputFile first(dir.file("x.h5"), {in});
  CHECK_THROWS_WITH(OutputFile(dir.file("x.h5"), {in}), Contains("another process is writing it"));
  test::write_bytes(first.part_path(), "spikes");
  first.commit();
  CHECK_NOTHROW(OutputFile(dir.file("x.h5"), {in}));  // free again
  CHECK_THROWS_WITH(check_outputs({dir.file("o.mp4"), dir.file("./o.mp4")}, {}),
                    Contains("two outputs"));
  CHECK_NOTHROW(check_outputs({dir.file("o.mp4"), "", dir.file("o.h5")}, {in}));
}

}  // namespace
}  // namespace spikevid
