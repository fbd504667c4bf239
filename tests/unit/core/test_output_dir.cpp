// The report folder's parent (--out): created with its own missing parents when it does not
// exist, removed again when nothing was committed into it, and one error naming it when it cannot
// be created.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "analyze_logs/core/output_dir.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using alog::OutputDir;
using alog::OutputError;
using alog::test_support::TempDir;

TEST(OutputDirParent, AMissingParentIsCreatedWithItsParents) {
  TempDir t;
  const fs::path parent = t.path / "a" / "b" / "c";
  OutputDir dir(parent, "analysis");
  dir.write("report.json", "{}\n");
  fs::path done = dir.commit();
  EXPECT_EQ(done.parent_path(), parent);
  EXPECT_TRUE(fs::is_regular_file(done / "report.json"));
  EXPECT_TRUE(done.filename().string().starts_with("analysis_")) << done;
}

TEST(OutputDirParent, FoldersItCreatedGoAgainWhenNothingIsCommitted) {
  TempDir t;
  fs::create_directory(t.path / "kept");
  {
    OutputDir dir(t.path / "kept" / "new" / "deeper", "analysis");
    dir.write("SUMMARY.md", "x");
    EXPECT_TRUE(fs::is_directory(t.path / "kept" / "new" / "deeper"));
  }
  EXPECT_TRUE(fs::is_directory(t.path / "kept")) << "a folder that existed before is kept";
  EXPECT_FALSE(fs::exists(t.path / "kept" / "new")) << "the folders it made are removed";
}

TEST(OutputDirParent, AFolderThatExistedIsNeverRemoved) {
  TempDir t;
  const fs::path parent = t.path / "reports";
  fs::create_directory(parent);
  { OutputDir dir(parent, "comparison"); }
  EXPECT_TRUE(fs::is_directory(parent));
}

TEST(OutputDirParent, AParentUnderARegularFileIsOneErrorNamingIt) {
  TempDir t;
  const fs::path file = t.write("seq.log", "not a folder\n");
  const fs::path parent = file / "sub" / "reports";
  try {
    OutputDir dir(parent, "analysis");
    FAIL() << "no error for " << parent;
  } catch (const OutputError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.starts_with(parent.string() + ": cannot create")) << what;
    EXPECT_NE(what.find("Not a directory"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  EXPECT_TRUE(fs::is_regular_file(file));
}

TEST(OutputDirParent, AParentThatIsARegularFileIsOneErrorNamingIt) {
  TempDir t;
  const fs::path file = t.write("report.txt", "x");
  try {
    OutputDir dir(file, "analysis");
    FAIL() << "no error for " << file;
  } catch (const OutputError& e) {
    EXPECT_EQ(std::string(e.what()),
              file.string() + ": cannot write the report here: not a directory");
  }
}
