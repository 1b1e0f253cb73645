// The timing cache: a second tuning of the same layer takes the cached choice without timing; entries
// survive a save / load; a corrupt, foreign or unreadable file is ignored with a warning, never a crash.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "backends/timing_cache.h"
#include "core/threading.h"
#include "tactic_test_util.h"

namespace ingot::backends {
namespace {

using namespace tactic_test;  // NOLINT(google-build-using-namespace)

class TimingCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ingot_timing_cache_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path(name)) << text; }

  // A one-layer plan (a 3x3 convolution) to tune.
  static engine::Plan conv_plan(int64_t channels) {
    LayerCase c("", "Conv");
    c.input({1, channels, 12, 12}).weight({8, channels, 3, 3}).weight({8});
    c.attr("pads", std::vector<int64_t>{1, 1, 1, 1});
    c.make_plan(false, {1, 8, 12, 12});
    engine::Plan plan;
    plan.tensors = c.desc().tensors;
    plan.layers.push_back(c.desc().layer);
    return plan;
  }

  std::filesystem::path dir_;
};

TEST_F(TimingCacheTest, ASecondTuningTakesTheCachedChoice) {
  TimingCache cache;
  engine::Plan plan = conv_plan(4);
  TuningStats first;
  ASSERT_TRUE(select_tactics(plan, TuningOptions{.repeats = 2, .cache = &cache, .stats = &first}).ok());
  EXPECT_EQ(first.timed, 1);
  EXPECT_EQ(first.cached, 0);
  ASSERT_EQ(cache.size(), 1u);
  const std::string chosen = plan.layers[0].tactic;
  ASSERT_TRUE(cache.save(path("cache.json")).ok());

  TimingCache loaded = TimingCache::load(path("cache.json"));
  EXPECT_EQ(loaded.warning(), "");
  ASSERT_EQ(loaded.size(), 1u);
  engine::Plan again = conv_plan(4);
  TuningStats second;
  ASSERT_TRUE(select_tactics(again, TuningOptions{.repeats = 2, .cache = &loaded, .stats = &second}).ok());
  EXPECT_EQ(second.timed, 0);
  EXPECT_EQ(second.cached, 1);
  EXPECT_EQ(again.layers[0].tactic, chosen);

  // Another shape is another key: timed, and added.
  engine::Plan other = conv_plan(6);
  TuningStats third;
  ASSERT_TRUE(select_tactics(other, TuningOptions{.repeats = 2, .cache = &loaded, .stats = &third}).ok());
  EXPECT_EQ(third.timed, 1);
  EXPECT_EQ(loaded.size(), 2u);
}

TEST_F(TimingCacheTest, AnEntryNamingATacticThatIsNotACandidateIsTimedAgain) {
  engine::Plan plan = conv_plan(4);
  std::vector<const Tactic*> candidates;
  const LayerDesc desc{plan.layers[0], plan.tensors};
  for (const Tactic* t : all_tactics())
    if (t->supports && t->supports(desc).empty()) candidates.push_back(t);
  TimingCache cache;
  cache.put(TimingCache::key(desc, candidates, num_threads()), {"cpu.no.such.tactic", 1.0, "x"});
  TuningStats stats;
  ASSERT_TRUE(select_tactics(plan, TuningOptions{.repeats = 2, .cache = &cache, .stats = &stats}).ok());
  EXPECT_EQ(stats.timed, 1);
  EXPECT_NE(plan.layers[0].tactic, "cpu.no.such.tactic");
}

TEST_F(TimingCacheTest, KeysDependOnTheThreadCount) {
  engine::Plan plan = conv_plan(4);
  const LayerDesc desc{plan.layers[0], plan.tensors};
  EXPECT_NE(TimingCache::key(desc, {}, 1), TimingCache::key(desc, {}, 2));
  EXPECT_EQ(TimingCache::key(desc, {}, 2), TimingCache::key(desc, {}, 2));
}

TEST_F(TimingCacheTest, BadFilesAreIgnoredWithAWarning) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"format\": \"ingot-timing-cache\", \"version\": 1, \"entr", "is not valid JSON"},
      {"\x01\x02garbage", "is not valid JSON"},
      {"[1, 2, 3]", "is not an ingot timing cache"},
      {"{\"format\": \"other\", \"version\": 1, \"entries\": {}}", "is not an ingot timing cache"},
      {"{\"format\": \"ingot-timing-cache\", \"version\": 99, \"entries\": {}}", "has format version 99"},
      {"{\"format\": \"ingot-timing-cache\", \"version\": 1, \"entries\": {}}", "has format version 1"},
      {"{\"format\": \"ingot-timing-cache\", \"version\": 2, \"entries\": {\"k\": {\"tactic\": 3}}}",
       "has a malformed entry 'k'"},
  };
  for (const auto& [text, why] : cases) {
    SCOPED_TRACE(text);
    write("bad.json", text);
    TimingCache c = TimingCache::load(path("bad.json"));
    EXPECT_EQ(c.size(), 0u);
    EXPECT_EQ(c.warning(),
              "timing cache " + path("bad.json") + " " + why + ": ignored, it will be rewritten");
  }
  // A missing file is an empty cache, without a warning.
  TimingCache none = TimingCache::load(path("missing.json"));
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.warning(), "");
}

TEST_F(TimingCacheTest, SavingIntoAMissingFolderIsAnError) {
  TimingCache c;
  c.put("k", {"reference", 1.0, "layer"});
  const Status st = c.save(path("no/such/folder/cache.json"));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no/such/folder/cache.json"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace ingot::backends
