// The append path against a real SQLite file: group commit, idempotence, all-or-nothing batches,
// the startup integrity scan, and the stateless checks.
#include "node/sequencer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "common/clock.h"
#include "ledger/log_verifier.h"
#include "ledger/merkle.h"
#include "ledger/proofs.h"
#include "node/startup_check.h"
#include "tests/unit/failing_store.h"
#include "tests/unit/faulty_vfs.h"
#include "tests/unit/test_world.h"

namespace cairn::node {
namespace {

using cairn::testing::DispatchOf;
using cairn::testing::kTestNow;
using cairn::testing::PakistanExtraction;
using cairn::testing::ReceiptOf;

constexpr char kLog[] = "demo-log";
constexpr char kLot[] = "pk-fwo:CHG-2025-0001";

class SequencerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "cairn-sequencer-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/node.db";
    Start();
  }
  void TearDown() override {
    Shutdown();
    std::filesystem::remove_all(dir_);
  }

  // Opens storage, scans it and starts a sequencer, as cairnd does; with `failing`, the sequencer
  // writes through failing_, a FailingStore in front of the storage.
  void Start(const StorageOptions& storage_options = {}, bool failing = false) {
    auto opened = Storage::Open(path_, storage_options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    ASSERT_TRUE(storage_->BindLogId(kLog).ok());
    auto scanned = ScanLog(*storage_, kLog, world_.trust(), /*find_all=*/false);
    ASSERT_TRUE(scanned.ok());
    ASSERT_TRUE(scanned->problems.empty()) << scanned->problems.front().what;
    ASSERT_TRUE(scanned->tree.has_value());
    LogStore* store = storage_.get();
    if (failing) {
      failing_ = std::make_unique<cairn::testing::FailingStore>(*storage_);
      store = failing_.get();
    }
    sequencer_ = std::make_unique<Sequencer>(*store, world_.trust(), clock_, Options(),
                                             std::move(*scanned->tree));
    sequencer_->Start();
  }
  SequencerOptions Options() {
    SequencerOptions options;
    options.log_id = kLog;
    const auto& k = world_.log_key();
    options.log_key = {kLog, k.key_id, k.public_key, k.secret_key};
    return options;
  }
  void Shutdown() {
    sequencer_.reset();
    failing_.reset();
    storage_.reset();
  }

  Result<AppendOutcome> Append(const cairn::v1::EventBody& body) {
    return sequencer_->Submit(world_.Sign(body)).get();
  }
  Result<AppendOutcome> AppendBatch(const std::vector<cairn::v1::EventBody>& bodies) {
    std::vector<ledger::ParsedEvent> events;
    for (const auto& body : bodies) events.push_back(world_.Sign(body));
    return sequencer_->SubmitBatch(std::move(events)).get();
  }

  // The checkpoint, verified against the registry's key for the log.
  cairn::v1::Checkpoint VerifiedCheckpoint(const cairn::v1::SignedCheckpoint& signed_checkpoint) {
    auto checkpoint = ledger::VerifyCheckpoint(signed_checkpoint, world_.trust());
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
    return checkpoint.ok() ? *checkpoint : cairn::v1::Checkpoint();
  }

  // Opens the database again (after Shutdown) and runs the start-up check on it.
  Result<ScannedLog> Rescan(bool find_all = false) {
    auto opened = Storage::Open(path_);
    if (!opened.ok()) return opened.status();
    storage_ = std::move(opened).value();
    return ScanLog(*storage_, kLog, world_.trust(), find_all);
  }

  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  cairn::testing::TestWorld world_;
  SettableClock clock_{kTestNow};
  std::string dir_;
  std::string path_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<cairn::testing::FailingStore> failing_;
  std::unique_ptr<Sequencer> sequencer_;
};

TEST_F(SequencerTest, SignsACheckpointOfTheEmptyLogAtStart) {
  const auto checkpoint = VerifiedCheckpoint(sequencer_->LatestCheckpoint());
  EXPECT_EQ(checkpoint.log_id(), kLog);
  EXPECT_EQ(checkpoint.size(), 0u);
  EXPECT_EQ(checkpoint.root_hash(), HashToString(ledger::EmptyRoot()));
  EXPECT_EQ(ToMicros(checkpoint.timestamp()), kTestNow);
}

TEST_F(SequencerTest, AppendAnswersWithEntryCheckpointAndInclusionProof) {
  auto first = Append(PakistanExtraction());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = Append(PakistanExtraction("pk-fwo:CHG-2"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  const AppendedEvent& event = second->events.at(0);
  EXPECT_EQ(event.index, 1u);
  EXPECT_FALSE(event.duplicate);

  cairn::v1::LogEntry entry;
  ASSERT_TRUE(entry.ParseFromString(event.entry));
  EXPECT_EQ(entry.log_id(), kLog);
  EXPECT_EQ(entry.index(), 1u);
  EXPECT_EQ(entry.prev_entry_hash(), HashToString(ledger::LeafHash(first->events[0].entry)));
  EXPECT_EQ(ToMicros(entry.appended_at()), kTestNow);

  const auto checkpoint = VerifiedCheckpoint(second->checkpoint);
  EXPECT_EQ(checkpoint.size(), 2u);
  Hash root{};
  std::copy(checkpoint.root_hash().begin(), checkpoint.root_hash().end(), root.begin());
  EXPECT_TRUE(ledger::VerifyInclusion(ledger::LeafHash(event.entry), 1, 2, event.inclusion, root));
  EXPECT_EQ(sequencer_->size(), 2u);
}

TEST_F(SequencerTest, EightConcurrentSubmittersGetConsecutiveIndexesAndALinkedChain) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::mutex mu;
  std::set<uint64_t> indexes;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string lot = "pk-fwo:T" + std::to_string(t) + "-" + std::to_string(i);
        auto outcome = Append(PakistanExtraction(lot, 1'000'000));
        if (!outcome.ok()) {
          ++failures;
          continue;
        }
        // The proof verifies against the checkpoint the caller was handed.
        cairn::v1::Checkpoint checkpoint;
        checkpoint.ParseFromString(outcome->checkpoint.checkpoint());
        Hash root{};
        std::copy(checkpoint.root_hash().begin(), checkpoint.root_hash().end(), root.begin());
        const AppendedEvent& e = outcome->events[0];
        if (!ledger::VerifyInclusion(ledger::LeafHash(e.entry), e.index, checkpoint.size(),
                                     e.inclusion, root)) {
          ++failures;
        }
        std::lock_guard<std::mutex> lock(mu);
        indexes.insert(e.index);
      }
    });
  }
  for (auto& t : threads) t.join();
  constexpr uint64_t kTotal = kThreads * kPerThread;
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(indexes.size(), kTotal);
  EXPECT_EQ(*indexes.begin(), 0u);
  EXPECT_EQ(*indexes.rbegin(), kTotal - 1);

  // Every stored entry links to the one before, and the tree matches the signed checkpoint.
  auto entries = storage_->ReadEntries(0, kTotal, SIZE_MAX);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), kTotal);
  Hash prev{};
  std::vector<Hash> leaves;
  for (const StoredEntry& stored : *entries) {
    cairn::v1::LogEntry entry;
    ASSERT_TRUE(entry.ParseFromString(stored.entry));
    EXPECT_EQ(entry.index(), stored.index);
    EXPECT_EQ(entry.prev_entry_hash(), HashToString(prev)) << "at " << stored.index;
    prev = ledger::LeafHash(stored.entry);
    leaves.push_back(prev);
  }
  const auto checkpoint = VerifiedCheckpoint(sequencer_->LatestCheckpoint());
  EXPECT_EQ(checkpoint.size(), kTotal);
  EXPECT_EQ(checkpoint.root_hash(), HashToString(ledger::RootOf(leaves)));

  // An auditor's verifier agrees.
  ledger::LogVerifier verifier(kLog, world_.trust());
  for (const StoredEntry& stored : *entries) ASSERT_TRUE(verifier.Add(stored.index, stored.entry));
  const ledger::LogVerdict verdict = verifier.Finish(sequencer_->LatestCheckpoint());
  EXPECT_FALSE(verdict.bad_index.has_value()) << verdict.problem.ToString();
}

TEST_F(SequencerTest, ReappendingTheSameEventReturnsTheSameEntryAsDuplicate) {
  const ledger::ParsedEvent event = world_.Sign(PakistanExtraction());
  auto first = sequencer_->Submit(event).get();
  ASSERT_TRUE(first.ok());
  auto second = sequencer_->Submit(event).get();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(first->events[0].duplicate);
  EXPECT_TRUE(second->events[0].duplicate);
  EXPECT_EQ(second->events[0].index, first->events[0].index);
  EXPECT_EQ(second->events[0].entry, first->events[0].entry);
  EXPECT_EQ(sequencer_->size(), 1u);
  EXPECT_EQ(*storage_->Size(), 1u);
}

TEST_F(SequencerTest, CheckpointTimeNeverGoesBackWhenTheClockIsSteppedBack) {
  ASSERT_TRUE(Append(PakistanExtraction()).ok());
  clock_.Set(kTestNow - 1000000);  // the wall clock is stepped back 1 s
  auto second = Append(DispatchOf("pk-fwo", "us-usm", kLot, 1000));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  const cairn::v1::Checkpoint checkpoint = VerifiedCheckpoint(second->checkpoint);
  cairn::v1::LogEntry entry;
  ASSERT_TRUE(entry.ParseFromString(second->events[0].entry));
  EXPECT_GE(ToMicros(entry.appended_at()), kTestNow);
  EXPECT_GE(ToMicros(checkpoint.timestamp()), ToMicros(entry.appended_at()));
  // Nor after a restart on the stepped-back clock.
  Shutdown();
  Start();
  EXPECT_GE(ToMicros(VerifiedCheckpoint(sequencer_->LatestCheckpoint()).timestamp()), kTestNow);
}

TEST_F(SequencerTest, AProofForTheLatestCheckpointIsNeverOutOfRange) {
  std::atomic<bool> done{false};
  std::atomic<int> refused{0};
  std::thread prover([&] {
    while (!done.load()) {
      cairn::v1::Checkpoint checkpoint;
      ASSERT_TRUE(checkpoint.ParseFromString(sequencer_->LatestCheckpoint().checkpoint()));
      if (checkpoint.size() == 0) continue;
      if (!sequencer_->InclusionProof(checkpoint.size() - 1, checkpoint.size()).ok()) ++refused;
      if (!sequencer_->ConsistencyProof(1, checkpoint.size()).ok()) ++refused;
    }
  });
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:P-" + std::to_string(i), 1000)).ok());
  }
  done = true;
  prover.join();
  EXPECT_EQ(refused.load(), 0);
}

TEST_F(SequencerTest, AReplayAfterTheKeyWasRevokedReturnsTheExistingEntry) {
  const auto& mine = world_.key("pk-fwo");
  const cairn::v1::SignedEvent logged =
      ledger::SignEvent(PakistanExtraction().SerializeAsString(), mine.key_id, mine.secret_key);
  ASSERT_TRUE(sequencer_->Submit(*ledger::ParseSignedEvent(logged)).get().ok());

  // An hour later the mine's key is revoked (the event stays valid: it was appended before).
  Shutdown();
  *world_.Participant("pk-fwo")->mutable_keys(0)->mutable_revoked_at() =
      FromMicros(kTestNow + 1000000);
  world_.Rebuild();
  clock_.Set(kTestNow + 3600LL * 1000000);
  Start();
  const AppendValidator validator(world_.trust(), clock_, "demo-log", {"pk-fwo"},
                                  [this](const Hash& id) -> Result<bool> {
                                    CAIRN_ASSIGN_OR_RETURN(auto found, storage_->FindEntry(id));
                                    return found.has_value();
                                  });
  auto checked = validator.Check(logged);
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  auto again = sequencer_->Submit(std::move(checked).value()).get();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->events[0].duplicate);
  EXPECT_EQ(again->events[0].index, 0u);
  EXPECT_EQ(sequencer_->size(), 1u);

  // A new event under the revoked key is refused, and so is a forged copy of the logged one.
  const auto fresh = ledger::SignEvent(PakistanExtraction("pk-fwo:NEW", 5).SerializeAsString(),
                                       mine.key_id, mine.secret_key);
  EXPECT_EQ(validator.Check(fresh).status().code(), StatusCode::kPermissionDenied);
  cairn::v1::SignedEvent forged = logged;
  forged.mutable_signature()->at(0) ^= 1;
  EXPECT_FALSE(validator.Check(forged).ok());
}

// The writer does not write a request whose caller has stopped waiting.
class ExpiredCompletion final : public Sequencer::Completion {
 public:
  explicit ExpiredCompletion(std::promise<Status>& answer) : answer_(answer) {}
  void Done(Result<AppendOutcome> outcome) override { answer_.set_value(outcome.status()); }
  std::chrono::system_clock::time_point deadline() const override {
    return std::chrono::system_clock::now() - std::chrono::milliseconds(1);
  }

 private:
  std::promise<Status>& answer_;
};

TEST_F(SequencerTest, ARequestWhoseDeadlinePassedIsNotWritten) {
  std::promise<Status> answer;
  auto future = answer.get_future();
  sequencer_->Submit(world_.Sign(PakistanExtraction()),
                     std::make_unique<ExpiredCompletion>(answer));
  const Status status = future.get();
  EXPECT_EQ(status.code(), StatusCode::kDeadlineExceeded) << status.ToString();
  EXPECT_EQ(sequencer_->size(), 0u);
  EXPECT_EQ(*storage_->Size(), 0u);
  // The same event from a caller still waiting is written.
  EXPECT_TRUE(Append(PakistanExtraction()).ok());
  EXPECT_EQ(*storage_->Size(), 1u);
}

// Answers on the writer thread, once, after COMMIT: the entry is then readable through the
// reader connection.
class RecordingCompletion final : public Sequencer::Completion {
 public:
  RecordingCompletion(Storage& storage, std::promise<bool>& committed, int& calls)
      : storage_(storage), committed_(committed), calls_(calls) {}
  void Done(Result<AppendOutcome> outcome) override {
    ++calls_;
    bool stored = false;
    if (outcome.ok()) {
      auto size = storage_.Size();
      stored = size.ok() && *size > outcome->events.front().index;
    }
    committed_.set_value(outcome.ok() && stored && !outcome->events.front().duplicate);
  }

 private:
  Storage& storage_;
  std::promise<bool>& committed_;
  int& calls_;
};

TEST_F(SequencerTest, CompletionIsCalledOnceAfterTheCommit) {
  std::promise<bool> committed;
  int calls = 0;
  sequencer_->Submit(world_.Sign(PakistanExtraction()),
                     std::make_unique<RecordingCompletion>(*storage_, committed, calls));
  EXPECT_TRUE(committed.get_future().get());
  sequencer_->Stop();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(sequencer_->size(), 1u);
}

TEST_F(SequencerTest, ConcurrentSubmittersShareCommitsAndAllGetAnswers) {
  // Many submitters at once: all answered, indexes distinct and dense.
  constexpr int kSubmitters = 32;
  std::vector<std::future<Result<AppendOutcome>>> futures;
  for (int i = 0; i < kSubmitters; ++i) {
    futures.push_back(
        sequencer_->Submit(world_.Sign(PakistanExtraction("pk-fwo:C" + std::to_string(i)))));
  }
  std::set<uint64_t> indexes;
  for (auto& future : futures) {
    auto outcome = future.get();
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    indexes.insert(outcome->events.front().index);
  }
  EXPECT_EQ(indexes.size(), static_cast<size_t>(kSubmitters));
  EXPECT_EQ(*indexes.rbegin(), static_cast<uint64_t>(kSubmitters - 1));
}

TEST_F(SequencerTest, AnEventRepeatedInOneBatchIsWrittenOnce) {
  // Signed once: a protobuf map may serialize in another order from a copy of the body.
  const ledger::ParsedEvent event = world_.Sign(PakistanExtraction());
  auto outcome = sequencer_->SubmitBatch({event, event}).get();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_EQ(outcome->events.size(), 2u);
  EXPECT_FALSE(outcome->events[0].duplicate);
  EXPECT_TRUE(outcome->events[1].duplicate);
  EXPECT_EQ(outcome->events[1].index, 0u);
  EXPECT_EQ(sequencer_->size(), 1u);
}

TEST_F(SequencerTest, BatchAppliesInOrderSoALaterEventMayUseAnEarlierOne) {
  const ledger::ParsedEvent extraction = world_.Sign(PakistanExtraction());
  const ledger::ParsedEvent dispatch =
      world_.Sign(DispatchOf("pk-fwo", "us-usm", kLot, 20'000'000));
  auto outcome = sequencer_->SubmitBatch({extraction, dispatch}).get();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->events[1].index, 1u);
  EXPECT_EQ(VerifiedCheckpoint(outcome->checkpoint).size(), 2u);
  auto receipt = Append(ReceiptOf("us-usm", dispatch.id_hex, kLot, 20'000'000));
  EXPECT_TRUE(receipt.ok()) << receipt.status().ToString();
}

TEST_F(SequencerTest, AFailingEventInABatchWritesNothing) {
  auto outcome = AppendBatch(
      {PakistanExtraction(), DispatchOf("pk-fwo", "us-usm", kLot, 30'000'000)});  // too much
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(outcome.status().message().rfind("events[1]: ", 0), 0u) << outcome.status().message();
  EXPECT_EQ(sequencer_->size(), 0u);
  EXPECT_EQ(*storage_->Size(), 0u);
  EXPECT_FALSE(storage_->FindLot(kLot)->has_value());
  EXPECT_EQ(VerifiedCheckpoint(sequencer_->LatestCheckpoint()).size(), 0u);

  // The same extraction alone then lands at index 0.
  auto alone = Append(PakistanExtraction());
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ(alone->events[0].index, 0u);
}

TEST_F(SequencerTest, ARefusedRequestDoesNotSpoilTheOthersQueuedWithIt) {
  // Queued back to back, these usually share one group commit; either way each is answered alone.
  auto good1 = sequencer_->Submit(world_.Sign(PakistanExtraction("pk-fwo:G1")));
  auto bad = sequencer_->Submit(world_.Sign(DispatchOf("pk-fwo", "us-usm", "pk-fwo:NOPE", 5)));
  auto good2 = sequencer_->Submit(world_.Sign(PakistanExtraction("pk-fwo:G2")));
  auto r1 = good1.get(), rb = bad.get(), r2 = good2.get();
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(rb.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r1->events[0].index, 0u);
  EXPECT_EQ(r2->events[0].index, 1u);
  EXPECT_EQ(*storage_->Size(), 2u);
}

TEST_F(SequencerTest, LotCreatedTwiceIsRefusedWithAlreadyExists) {
  ASSERT_TRUE(Append(PakistanExtraction()).ok());
  auto again = Append(PakistanExtraction(kLot, 1));
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(sequencer_->size(), 1u);
}

TEST_F(SequencerTest, RestartRebuildsTheSameTreeFromStorage) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:R" + std::to_string(i))).ok());
  }
  const auto before = VerifiedCheckpoint(sequencer_->LatestCheckpoint());
  Shutdown();
  Start();
  const auto after = VerifiedCheckpoint(sequencer_->LatestCheckpoint());
  EXPECT_EQ(after.size(), 7u);
  EXPECT_EQ(after.root_hash(), before.root_hash());
  auto next = Append(PakistanExtraction("pk-fwo:R7"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->events[0].index, 7u);
}

TEST_F(SequencerTest, StopAnswersQueuedRequestsThenRefusesNewOnes) {
  std::vector<std::future<Result<AppendOutcome>>> futures;
  for (int i = 0; i < 20; ++i) {
    futures.push_back(
        sequencer_->Submit(world_.Sign(PakistanExtraction("pk-fwo:S" + std::to_string(i)))));
  }
  sequencer_->Stop();
  for (auto& f : futures) EXPECT_TRUE(f.get().ok());
  auto late = sequencer_->Submit(world_.Sign(PakistanExtraction("pk-fwo:LATE"))).get();
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(*storage_->Size(), 20u);
}

// The writer's failure path against real SQLite: an fsync failing at COMMIT. The caller gets an
// error (never an acknowledgement) and the writer refuses everything until a restart (it went on
// before whenever the connection still showed the old size, though after a failed fsync the
// kernel may have dropped pages it had accepted). After the restart the log is sound, holds every
// acknowledged event, and the failed event appended again is answered consistently (COMMIT may
// or may not have made it durable).
TEST_F(SequencerTest, AnFsyncFailingAtCommitIsNeverAcknowledgedAndTheLogStaysSound) {
  Shutdown();
  cairn::testing::FaultyVfs::Register();
  StorageOptions faulty;
  faulty.vfs = cairn::testing::FaultyVfs::kName;
  Start(faulty);
  auto kept = Append(PakistanExtraction("pk-fwo:FS-0"));
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();

  const ledger::ParsedEvent failing = world_.Sign(PakistanExtraction("pk-fwo:FS-1"));
  cairn::testing::FaultyVfs::fail_sync() = true;
  auto failed = sequencer_->Submit(failing).get();
  cairn::testing::FaultyVfs::fail_sync() = false;
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kInternal);
  EXPECT_NE(failed.status().message().find("commit failed"), std::string::npos)
      << failed.status().message();

  auto after = Append(PakistanExtraction("pk-fwo:FS-2"));
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.status().message().find("restart cairnd"), std::string::npos)
      << after.status().message();
  Shutdown();
  Start();  // the default VFS; Start() asserts that the start-up check finds no problem
  EXPECT_GE(*storage_->Size(), 1u);
  auto first = storage_->ReadEntry(0);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->entry, kept->events[0].entry);
  auto again = sequencer_->Submit(failing).get();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto replay = sequencer_->Submit(failing).get();
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->events[0].duplicate);
  EXPECT_EQ(replay->events[0].index, again->events[0].index);
}

using FailingOp = cairn::testing::FailingStore::Op;
using CommitFailure = cairn::testing::FailingStore::CommitFailure;

TEST_F(SequencerTest, ACommitThatFailedBeforeTheDiskIsNeverAcknowledgedAndIsGoneAfterARestart) {
  Shutdown();
  Start({}, /*failing=*/true);
  auto kept = Append(PakistanExtraction("pk-fwo:FC-0"));
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();

  const ledger::ParsedEvent lost = world_.Sign(PakistanExtraction("pk-fwo:FC-1"));
  failing_->FailNextCommit(CommitFailure::kBeforeDurable);
  auto failed = sequencer_->Submit(lost).get();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kInternal);
  EXPECT_NE(failed.status().message().find("commit failed"), std::string::npos);
  auto refused = Append(PakistanExtraction("pk-fwo:FC-2"));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("restart cairnd"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(failing_->calls(FailingOp::kInsertEntry), 2u) << "a poisoned writer writes nothing";

  Shutdown();
  Start();  // asserts that the start-up check finds no problem
  EXPECT_EQ(*storage_->Size(), 1u);
  EXPECT_FALSE(storage_->FindEntry(lost.id)->has_value());
  auto again = sequencer_->Submit(lost).get();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->events[0].duplicate);
  EXPECT_EQ(again->events[0].index, 1u);
}

TEST_F(SequencerTest, ACommitThatFailedAfterTheDiskIsFoundAgainAfterARestartNotWrittenTwice) {
  Shutdown();
  Start({}, /*failing=*/true);
  ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:FD-0")).ok());
  const ledger::ParsedEvent durable = world_.Sign(PakistanExtraction("pk-fwo:FD-1"));
  failing_->FailNextCommit(CommitFailure::kAfterDurable);
  auto failed = sequencer_->Submit(durable).get();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("append the same events again"), std::string::npos)
      << failed.status().message();
  EXPECT_FALSE(Append(PakistanExtraction("pk-fwo:FD-2")).ok());

  Shutdown();
  Start();  // the durable group's checkpoint covers it: no problem found
  EXPECT_EQ(*storage_->Size(), 2u);
  auto replay = sequencer_->Submit(durable).get();
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->events[0].duplicate);
  EXPECT_EQ(replay->events[0].index, 1u);
  auto next = Append(PakistanExtraction("pk-fwo:FD-2"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->events[0].index, 2u);
}

TEST_F(SequencerTest, AFailedWriteInsideTheTransactionRefusesItsRequestAndTheNextAppendIsSound) {
  for (const FailingOp op : {FailingOp::kInsertEntry, FailingOp::kApplyEffects, FailingOp::kPutTile,
                             FailingOp::kPutCheckpoint}) {
    SCOPED_TRACE(static_cast<int>(op));
    Shutdown();
    std::filesystem::remove(path_);
    Start({}, /*failing=*/true);
    // 15 entries: the next one completes the first tile of 16 leaf hashes, which is stored.
    std::vector<cairn::v1::EventBody> first;
    for (int i = 0; i < 15; ++i)
      first.push_back(PakistanExtraction("pk-fwo:FW-" + std::to_string(i)));
    ASSERT_TRUE(AppendBatch(first).ok());
    EXPECT_EQ(failing_->calls(FailingOp::kPutTile), 0u);

    const ledger::ParsedEvent refused = world_.Sign(PakistanExtraction("pk-fwo:FW-refused"));
    failing_->FailNext(op);
    auto failed = sequencer_->Submit(refused).get();
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), StatusCode::kInternal);
    EXPECT_NE(failed.status().message().find("injected failure"), std::string::npos)
        << failed.status().message();
    EXPECT_EQ(sequencer_->size(), 15u);

    // Not poisoned: the transaction was rolled back, the tree and the checkpoint did not move.
    auto next = Append(PakistanExtraction("pk-fwo:FW-15"));
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(next->events[0].index, 15u);
    EXPECT_GE(failing_->calls(FailingOp::kPutTile), 1u);
    const auto checkpoint = VerifiedCheckpoint(next->checkpoint);
    EXPECT_EQ(checkpoint.size(), 16u);
    Hash root{};
    std::copy(checkpoint.root_hash().begin(), checkpoint.root_hash().end(), root.begin());
    EXPECT_TRUE(ledger::VerifyInclusion(ledger::LeafHash(next->events[0].entry), 15, 16,
                                        next->events[0].inclusion, root));
    Shutdown();
    Start();  // the start-up check finds the log, its tiles and its checkpoint sound
    EXPECT_FALSE(storage_->FindEntry(refused.id)->has_value());
    EXPECT_EQ(*storage_->Size(), 16u);
  }
}

TEST_F(SequencerTest, StopAnswersRequestsQueuedBeforeTheWriterStarted) {
  Shutdown();
  auto opened = Storage::Open(path_);
  ASSERT_TRUE(opened.ok());
  storage_ = std::move(opened).value();
  auto scanned = ScanLog(*storage_, kLog, world_.trust(), /*find_all=*/false);
  ASSERT_TRUE(scanned.ok() && scanned->tree.has_value());
  sequencer_ = std::make_unique<Sequencer>(*storage_, world_.trust(), clock_, Options(),
                                           std::move(*scanned->tree));
  auto queued = sequencer_->Submit(world_.Sign(PakistanExtraction()));  // never started
  sequencer_->Stop();
  ASSERT_EQ(queued.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const auto outcome = queued.get();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(*storage_->Size(), 0u);
}

TEST_F(SequencerTest, ScanLogFindsATamperedEntry) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:X" + std::to_string(i))).ok());
  }
  Shutdown();
  // Flip a byte of entry 1 (in its signature, so it still parses).
  RawExec(
      "UPDATE entries SET entry = substr(entry, 1, length(entry) - 1) || "
      "CASE WHEN substr(entry, -1) = x'00' THEN x'01' ELSE x'00' END WHERE idx = 1");
  auto opened = Storage::Open(path_);
  ASSERT_TRUE(opened.ok());
  storage_ = std::move(opened).value();

  auto first = ScanLog(*storage_, kLog, world_.trust(), /*find_all=*/false);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->problems.size(), 1u);
  EXPECT_EQ(first->problems[0].index, 1u);
  EXPECT_NE(first->problems[0].what.find("leaf_hash"), std::string::npos)
      << first->problems[0].what;
  EXPECT_EQ(first->sound, 1u);

  // The full report also names the broken link from entry 2.
  auto all = ScanLog(*storage_, kLog, world_.trust(), /*find_all=*/true);
  ASSERT_TRUE(all.ok());
  bool link_reported = false;
  for (const auto& p : all->problems) {
    link_reported |= p.index == 2 && p.what.find("prev_entry_hash") != std::string::npos;
  }
  EXPECT_TRUE(link_reported);
}

TEST_F(SequencerTest, ScanLogFindsAMissingEntryAndAForeignLogId) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:M" + std::to_string(i))).ok());
  }
  Shutdown();
  RawExec("DELETE FROM entries WHERE idx = 1");
  auto scanned = Rescan();
  ASSERT_TRUE(scanned.ok());
  ASSERT_EQ(scanned->problems.size(), 1u);
  EXPECT_EQ(scanned->problems[0].index, 1u);
  EXPECT_NE(scanned->problems[0].what.find("missing"), std::string::npos);

  auto foreign = ScanLog(*storage_, "other-log", world_.trust(), /*find_all=*/false);
  ASSERT_TRUE(foreign.ok());
  ASSERT_FALSE(foreign->problems.empty());
  EXPECT_EQ(foreign->problems[0].index, 0u);
  EXPECT_NE(foreign->problems[0].what.find("LogEntry.log_id"), std::string::npos);
}

TEST_F(SequencerTest, ProofsFromStoredTilesMatchTheTreeOfTheLeavesAfterARestart) {
  // 300 entries: level-4 tiles, a level-8 hash in memory and incomplete tiles on the right edge.
  std::vector<cairn::v1::EventBody> bodies;
  for (int i = 0; i < 300; ++i)
    bodies.push_back(PakistanExtraction("pk-fwo:B" + std::to_string(i)));
  for (size_t at = 0; at < bodies.size(); at += 37) {
    const auto end = bodies.begin() + static_cast<int64_t>(std::min(bodies.size(), at + 37));
    auto outcome = AppendBatch({bodies.begin() + static_cast<int64_t>(at), end});
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    // Every answer's proof verifies against its checkpoint.
    const auto checkpoint = VerifiedCheckpoint(outcome->checkpoint);
    Hash root{};
    std::copy(checkpoint.root_hash().begin(), checkpoint.root_hash().end(), root.begin());
    for (const AppendedEvent& e : outcome->events) {
      ASSERT_TRUE(ledger::VerifyInclusion(ledger::LeafHash(e.entry), e.index, checkpoint.size(),
                                          e.inclusion, root))
          << e.index;
    }
  }
  Shutdown();
  Start();  // loads the tree from storage: nothing rebuilt
  auto leaves = storage_->LeafHashes();
  ASSERT_TRUE(leaves.ok());
  ASSERT_EQ(leaves->size(), 300u);
  for (uint64_t size : {1u, 15u, 16u, 17u, 255u, 256u, 257u, 299u, 300u}) {
    std::vector<Hash> prefix(leaves->begin(), leaves->begin() + static_cast<int64_t>(size));
    ledger::LeafVectorSource expected(prefix);
    for (uint64_t i = 0; i < size; i += (size > 40 ? 7 : 1)) {
      auto proof = sequencer_->InclusionProof(i, size);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, *ledger::InclusionProof(expected, i, size)) << i << " of " << size;
    }
    for (uint64_t old_size : {0u, 1u, 7u, 16u, 100u, 256u}) {
      if (old_size > size) continue;
      auto proof = sequencer_->ConsistencyProof(old_size, size);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, *ledger::ConsistencyProof(expected, old_size, size))
          << old_size << " to " << size;
    }
  }
  EXPECT_EQ(VerifiedCheckpoint(sequencer_->LatestCheckpoint()).root_hash(),
            HashToString(ledger::RootOf(*leaves)));
}

TEST_F(SequencerTest, AnOlderDatabaseGetsItsTreeHashesOnceWhenOpened) {
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:MG" + std::to_string(i))).ok());
  }
  const auto before = VerifiedCheckpoint(sequencer_->LatestCheckpoint());
  Shutdown();
  RawExec("DROP TABLE tiles; DELETE FROM meta WHERE key = 'checkpoint'; PRAGMA user_version = 2");
  Start();  // migrates: tiles computed from the stored leaf hashes, then checked by ScanLog
  EXPECT_EQ(VerifiedCheckpoint(sequencer_->LatestCheckpoint()).root_hash(), before.root_hash());
  auto proof = sequencer_->InclusionProof(3, 40);
  ASSERT_TRUE(proof.ok()) << proof.status().ToString();
  auto next = Append(PakistanExtraction("pk-fwo:MG40"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->events[0].index, 40u);
}

TEST_F(SequencerTest, EveryGroupStoresItsCheckpointWithItsEntries) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:CP" + std::to_string(i))).ok());
  }
  auto stored = storage_->StoredCheckpoint();
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(VerifiedCheckpoint(**stored).size(), 3u);
  EXPECT_EQ((*stored)->SerializeAsString(), sequencer_->LatestCheckpoint().SerializeAsString());
}

TEST_F(SequencerTest, ScanLogRefusesALogShorterThanItsLastCheckpoint) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:TR" + std::to_string(i))).ok());
  }
  Shutdown();
  RawExec("DELETE FROM entries WHERE idx >= 3");
  auto scanned = Rescan();
  ASSERT_TRUE(scanned.ok());
  ASSERT_EQ(scanned->problems.size(), 1u);
  EXPECT_EQ(scanned->problems[0].what,
            "log truncated: it signed a checkpoint of size 5, holds 3 entries");
  EXPECT_FALSE(scanned->tree.has_value());
}

TEST_F(SequencerTest, ScanLogRefusesStoredTreeHashesThatDisagreeWithTheEntries) {
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:TH" + std::to_string(i))).ok());
  }
  Shutdown();
  // Level-4 tile 0 holds the roots of leaves 0..15 and 16..31; corrupt the first.
  RawExec("UPDATE tiles SET hashes = zeroblob(32) || substr(hashes, 33) WHERE id = " +
          std::to_string(int64_t{1} << 56));
  auto scanned = Rescan();
  ASSERT_TRUE(scanned.ok());
  ASSERT_EQ(scanned->problems.size(), 1u);
  EXPECT_EQ(scanned->problems[0].index, 0u);
  EXPECT_NE(scanned->problems[0].what.find("stored tile (level 1, index 0): hash 0"),
            std::string::npos)
      << scanned->problems[0].what;
}

// A tile away from the tree's right edge is not needed for the root, only for proofs: every
// stored tile is compared with the entries, not just the ones the root is computed from.
TEST_F(SequencerTest, ScanLogRefusesAFlippedByteInAnyStoredTile) {
  for (int round = 0; round < 3; ++round) {
    std::vector<cairn::v1::EventBody> bodies;
    for (int i = 0; i < 100; ++i) {
      bodies.push_back(PakistanExtraction("pk-fwo:FT" + std::to_string(round * 100 + i)));
    }
    ASSERT_TRUE(AppendBatch(bodies).ok());
  }
  Shutdown();
  // Tile (1, 0) is complete (the roots of leaves 0..255 by sixteens); change a byte of hash 5
  // (to 0xff, or to 0xfe where it already was 0xff: the hashes differ from run to run).
  RawExec(
      "UPDATE tiles SET hashes = substr(hashes, 1, 170) || "
      "CASE WHEN substr(hashes, 171, 1) = x'ff' THEN x'fe' ELSE x'ff' END || "
      "substr(hashes, 172) WHERE id = " +
      std::to_string(int64_t{1} << 56));
  auto scanned = Rescan();
  ASSERT_TRUE(scanned.ok());
  ASSERT_EQ(scanned->problems.size(), 1u);
  EXPECT_EQ(scanned->problems[0].index, 80u);
  EXPECT_NE(scanned->problems[0].what.find("stored tile (level 1, index 0): hash 5"),
            std::string::npos)
      << scanned->problems[0].what;
  EXPECT_FALSE(scanned->tree.has_value());
}

// Someone changes the mass of entry 137 and recomputes every later hash, the leaf hashes and the
// tiles, so that the chain and the tree agree again: only the root the node signed differs. The
// start-up check re-checks the events to name entry 137, not the end of the log.
TEST_F(SequencerTest, ScanLogNamesTheChangedEntryWhenEveryLaterHashWasRecomputed) {
  std::vector<cairn::v1::EventBody> bodies;
  for (int i = 0; i < 150; ++i)
    bodies.push_back(PakistanExtraction("pk-fwo:RW" + std::to_string(i)));
  ASSERT_TRUE(AppendBatch(bodies).ok());
  Shutdown();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  std::vector<std::string> entries;
  {
    sqlite3_stmt* read = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT entry FROM entries ORDER BY idx", -1, &read, nullptr),
              SQLITE_OK);
    while (sqlite3_step(read) == SQLITE_ROW) {
      entries.emplace_back(static_cast<const char*>(sqlite3_column_blob(read, 0)),
                           sqlite3_column_bytes(read, 0));
    }
    sqlite3_finalize(read);
  }
  ASSERT_EQ(entries.size(), 150u);
  Hash prev{};
  TileBuilder tiles;
  sqlite3_stmt* update = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "UPDATE entries SET entry = ?, leaf_hash = ?, event_id = ?, "
                               "event_key = ? WHERE idx = ?",
                               -1, &update, nullptr),
            SQLITE_OK);
  for (size_t i = 0; i < entries.size(); ++i) {
    cairn::v1::LogEntry entry;
    ASSERT_TRUE(entry.ParseFromString(entries[i]));
    if (i == 137) {
      cairn::v1::EventBody body;
      ASSERT_TRUE(body.ParseFromString(entry.event().body()));
      body.mutable_extraction()->set_mass_g(body.extraction().mass_g() * 10);
      entry.mutable_event()->set_body(body.SerializeAsString());
    }
    entry.set_prev_entry_hash(HashToString(prev));
    const std::string bytes = entry.SerializeAsString();
    prev = ledger::LeafHash(bytes);
    tiles.Append(prev);
    const Hash id = ledger::EventId(entry.event().body());
    sqlite3_bind_blob(update, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(update, 2, prev.data(), 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(update, 3, id.data(), 32, SQLITE_TRANSIENT);
    sqlite3_bind_int64(update, 4, EventKey(id));
    sqlite3_bind_int64(update, 5, static_cast<int64_t>(i));
    ASSERT_EQ(sqlite3_step(update), SQLITE_DONE);
    sqlite3_reset(update);
  }
  sqlite3_finalize(update);
  sqlite3_stmt* put = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO tiles(id, hashes) VALUES (?, ?)", -1,
                               &put, nullptr),
            SQLITE_OK);
  for (const TileWrite& tile : tiles.TakeWrites()) {
    const std::string bytes = SerializeTile(tile.hashes);
    sqlite3_bind_int64(put, 1,
                       static_cast<int64_t>((uint64_t{tile.tile_level} << 56) | tile.tile_index));
    sqlite3_bind_blob(put, 2, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(put), SQLITE_DONE);
    sqlite3_reset(put);
  }
  sqlite3_finalize(put);
  sqlite3_close(db);

  auto scanned = Rescan();
  ASSERT_TRUE(scanned.ok());
  ASSERT_FALSE(scanned->problems.empty());
  EXPECT_EQ(scanned->problems[0].index, 137u) << scanned->problems[0].what;
  EXPECT_NE(scanned->problems[0].what.find("signature"), std::string::npos)
      << scanned->problems[0].what;
  EXPECT_EQ(scanned->sound, 137u);
  EXPECT_FALSE(scanned->tree.has_value());
}

// The custody tables are derived from the log; a node that trusted them could be made to accept
// a dispatch of 50 t from a 1 t lot by one UPDATE. Each change below is refused at start, naming
// the table; the untouched database passes.
TEST_F(SequencerTest, ScanLogRefusesCustodyTablesThatDisagreeWithTheLog) {
  const ledger::ParsedEvent dispatch = world_.Sign(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000));
  ASSERT_TRUE(Append(PakistanExtraction()).ok());
  ASSERT_TRUE(sequencer_->Submit(dispatch).get().ok());
  // 1% short: a transit loss of 80 kg.
  ASSERT_TRUE(Append(ReceiptOf("us-usm", dispatch.id_hex, kLot, 7'920'000)).ok());
  ASSERT_TRUE(
      Append(cairn::testing::Separation("us-usm", kLot, 7'920'000, "us-usm:NDPR-1", 300'000)).ok());
  // Still in transit at the end.
  ASSERT_TRUE(Append(DispatchOf("pk-fwo", "jp-magnets", kLot, 1'000'000)).ok());
  Shutdown();
  const std::string pristine = dir_ + "/pristine.db";
  std::filesystem::copy_file(path_, pristine);

  const auto scan = [&]() {
    auto opened = Storage::Open(path_);
    EXPECT_TRUE(opened.ok());
    storage_ = std::move(opened).value();
    auto scanned = ScanLog(*storage_, kLog, world_.trust(), /*find_all=*/false);
    EXPECT_TRUE(scanned.ok());
    storage_.reset();
    return std::move(scanned).value();
  };
  const ScannedLog untouched = scan();
  EXPECT_TRUE(untouched.problems.empty()) << untouched.problems.front().what;
  EXPECT_TRUE(untouched.warnings.empty());

  const std::vector<std::pair<std::string, std::string>> tampers = {
      {"UPDATE holdings SET mass_g = 50000000 WHERE holder = 'pk-fwo'", "holdings"},
      {"DELETE FROM holdings WHERE holder = 'us-usm'", "holdings"},
      {"INSERT INTO holdings VALUES ('pk-fwo:CHG-2025-0001', 'jp-magnets', 5)", "holdings"},
      {"UPDATE lots SET created_mass_g = created_mass_g * 2 WHERE lot_id = 'pk-fwo:CHG-2025-0001'",
       "lots"},
      {"UPDATE lots SET consumed_g = 0", "lots"},
      {"UPDATE lots SET transit_loss_g = 0", "lots"},
      {"UPDATE lots SET creator = 'jp-magnets' WHERE lot_id = 'us-usm:NDPR-1'", "lots"},
      {"UPDATE lots SET composition = x''", "lots"},
      {"DELETE FROM lots WHERE lot_id = 'us-usm:NDPR-1'", "lots"},
      {"UPDATE shipments SET received_idx = NULL WHERE dispatch_idx = 1", "shipments"},
      {"UPDATE shipments SET received_idx = 4 WHERE dispatch_idx = 4", "shipments"},
      {"UPDATE shipments SET recipient = 'jp-magnets' WHERE dispatch_idx = 1", "shipments"},
      {"DELETE FROM shipments WHERE dispatch_idx = 4", "shipments"},
      {"UPDATE shipment_lots SET mass_g = 9000000 WHERE dispatch_idx = 4", "shipment_lots"},
      {"UPDATE shipment_lots SET received_g = 8000000 WHERE dispatch_idx = 1", "shipment_lots"},
      {"DELETE FROM lot_entries WHERE idx = 1", "lot_entries"},
      {"INSERT INTO lot_entries VALUES ('us-usm:NDPR-1', 0, 1)", "lot_entries"},
  };
  for (const auto& [sql, table] : tampers) {
    SCOPED_TRACE(sql);
    std::filesystem::copy_file(pristine, path_, std::filesystem::copy_options::overwrite_existing);
    RawExec(sql);
    const ScannedLog scanned = scan();
    ASSERT_EQ(scanned.problems.size(), 1u);
    EXPECT_NE(scanned.problems[0].what.find("custody table " + table + ":"), std::string::npos)
        << scanned.problems[0].what;
    EXPECT_FALSE(scanned.tree.has_value());
  }
}

TEST_F(SequencerTest, AuditModeRefusesAppendsAndServesTheStoredCheckpoint) {
  ASSERT_TRUE(Append(PakistanExtraction()).ok());
  const std::string signed_before = sequencer_->LatestCheckpoint().SerializeAsString();
  Shutdown();
  StorageOptions read_only;
  read_only.read_only = true;
  auto opened = Storage::Open(path_, read_only);
  ASSERT_TRUE(opened.ok());
  storage_ = std::move(opened).value();
  auto scanned = ScanLog(*storage_, kLog, world_.trust(), /*find_all=*/false);
  ASSERT_TRUE(scanned.ok() && scanned->tree.has_value());
  SequencerOptions options = Options();
  options.audit = true;
  static const FixedClock later(kTestNow + 1'000'000);  // a new signature would differ
  sequencer_ = std::make_unique<Sequencer>(*storage_, world_.trust(), later, options,
                                           std::move(*scanned->tree));
  EXPECT_EQ(sequencer_->LatestCheckpoint().SerializeAsString(), signed_before);
  EXPECT_EQ(sequencer_->size(), 1u);
  auto refused = Append(PakistanExtraction("pk-fwo:NEW"));
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(), "node is in audit mode (read-only)");
  EXPECT_TRUE(sequencer_->InclusionProof(0, 1).ok());
}

class AppendValidatorTest : public ::testing::Test {
 protected:
  cairn::testing::TestWorld world_;
  FixedClock clock_{kTestNow};
  AppendValidator validator_{world_.trust(), clock_, "demo-log", {"pk-fwo", "us-usm"}};

  cairn::v1::SignedEvent Signed(const cairn::v1::EventBody& body) {
    const auto& k = world_.key(body.author());
    return ledger::SignEvent(body.SerializeAsString(), k.key_id, k.secret_key);
  }
};

TEST_F(AppendValidatorTest, AcceptsAValidEventOfAHostedAuthor) {
  auto parsed = validator_.Check(Signed(PakistanExtraction()));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->body.extraction().lot_id(), kLot);
}

TEST_F(AppendValidatorTest, RefusesAnAuthorThisNodeDoesNotHost) {
  auto body = ReceiptOf("jp-magnets", std::string(64, 'a'), kLot, 5);
  auto refused = validator_.Check(Signed(body));
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(),
            "author jp-magnets is not hosted by this node (hosts: pk-fwo, us-usm)");
}

TEST_F(AppendValidatorTest, RefusesRandomAndTruncatedBodiesAsInvalidArgument) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    auto event = Signed(PakistanExtraction());
    std::string body(1 + rng() % 600, '\0');
    for (char& c : body) c = static_cast<char>(rng());
    if (round % 2 == 0) body = event.body().substr(0, rng() % event.body().size());
    event.set_body(body);
    auto refused = validator_.Check(event);
    ASSERT_FALSE(refused.ok()) << "round " << round;
    EXPECT_TRUE(refused.status().code() == StatusCode::kInvalidArgument ||
                refused.status().code() == StatusCode::kUnauthenticated)
        << refused.status().ToString();
  }
}

TEST_F(AppendValidatorTest, RefusesAForgedSignature) {
  auto event = Signed(PakistanExtraction());
  std::string signature = event.signature();
  signature[3] ^= 1;
  event.set_signature(signature);
  EXPECT_EQ(validator_.Check(event).status().code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace cairn::node
