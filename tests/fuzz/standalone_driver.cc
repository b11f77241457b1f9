// Standalone fuzz driver: a main() for the fuzz targets in builds without libFuzzer (gcc, the
// normal and sanitizer test builds). It replays every corpus file given (files or directories),
// then runs a bounded number of random mutations of them with a fixed seed, so a ctest run is
// deterministic and quick. Single-threaded.
//
//   fuzz_command [--runs=N] [--seed=S] [--max_len=L] CORPUS_DIR_OR_FILE...
//
// A failing input is printed by FUZZ_CHECK, or by the death callback under a sanitizer.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

const std::string* g_current = nullptr;

void DumpCurrentInput() {
  if (g_current == nullptr) return;
  std::fprintf(stderr, "standalone_driver: failing input (%zu bytes), hex:\n", g_current->size());
  for (unsigned char c : *g_current) std::fprintf(stderr, "%02x", c);
  std::fprintf(stderr, "\n");
}

void RunOne(const std::string& input) {
  g_current = &input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  g_current = nullptr;
}

// Tokens the mutator inserts: RESP framing, numbers at the edges, command names.
const char* const kTokens[] = {
    "\r\n",
    "*",
    "$",
    "*1\r\n",
    "$-1\r\n",
    "-1",
    "0",
    "4294967296",
    "-9223372036854775808",
    "9223372036854775807",
    "18446744073709551616",
    "1e308",
    "inf",
    "-inf",
    "nan",
    "\"",
    "'",
    "\\x00",
    " ",
    "{tag}",
    "SET ",
    "GET ",
    "DEL ",
    "EXPIRE ",
    "LPUSH ",
    "RPOP ",
    "HSET ",
    "SADD ",
    "ZADD ",
    "XADD ",
    "GEOADD ",
    "PFADD ",
    "SETBIT ",
    "BITFIELD ",
    "RESTORE ",
    "DUMP ",
    "SORT ",
    "SCAN ",
    "RENAME ",
    "COPY ",
    "LMOVE ",
    "ZUNIONSTORE ",
    "XREADGROUP ",
    "LIMIT ",
    "BY ",
    "GET #",
    "STORE ",
    "WITHSCORES",
    "COUNT ",
    "MAXLEN ~ ",
    "MATCH *",
};

std::string Mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng,
                   size_t max_len) {
  auto pick = [&rng](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  int steps = 1 + static_cast<int>(pick(4));
  for (int i = 0; i < steps; ++i) {
    switch (pick(8)) {
      case 0:  // flip a bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1 << pick(8));
        break;
      case 1:  // set a random byte
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng());
        break;
      case 2:  // insert a random byte
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(pick(s.size() + 1)),
                 static_cast<char>(rng()));
        break;
      case 3:  // erase a range
        if (!s.empty()) {
          size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<size_t>(16, s.size() - at)));
        }
        break;
      case 4:  // duplicate a range
        if (!s.empty()) {
          size_t at = pick(s.size());
          std::string piece = s.substr(at, 1 + pick(64));
          s.insert(pick(s.size() + 1), piece);
        }
        break;
      case 5:  // insert a token
      case 6:
        s.insert(pick(s.size() + 1), kTokens[pick(sizeof(kTokens) / sizeof(kTokens[0]))]);
        break;
      case 7: {  // splice: a piece of another corpus input
        const std::string& other = corpus[pick(corpus.size())];
        if (!other.empty()) {
          size_t at = pick(other.size());
          s.insert(pick(s.size() + 1), other.substr(at, 1 + pick(256)));
        }
        break;
      }
    }
  }
  if (s.size() > max_len) s.resize(max_len);
  return s;
}

bool ReadFile(const std::filesystem::path& p, std::string* out) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 1000;
  uint64_t seed = 1;
  size_t max_len = 4096;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--runs=", 0) == 0) {
      runs = std::strtol(a.c_str() + 7, nullptr, 10);
    } else if (a.rfind("--seed=", 0) == 0) {
      seed = std::strtoull(a.c_str() + 7, nullptr, 10);
    } else if (a.rfind("--max_len=", 0) == 0) {
      max_len = std::strtoul(a.c_str() + 10, nullptr, 10);
    } else if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::directory_iterator(a)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.emplace_back(a);
    }
  }
  std::sort(files.begin(), files.end());  // a deterministic order for the mutations
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(DumpCurrentInput);

  std::vector<std::string> corpus;
  for (const auto& p : files) {
    std::string data;
    if (!ReadFile(p, &data)) {
      std::fprintf(stderr, "cannot read %s\n", p.c_str());
      return 2;
    }
    RunOne(data);
    corpus.push_back(std::move(data));
  }
  if (corpus.empty()) corpus.emplace_back();
  std::mt19937_64 rng(seed);
  for (long i = 0; i < runs; ++i) {
    std::string input = Mutate(corpus[rng() % corpus.size()], corpus, rng, max_len);
    RunOne(input);
  }
  std::printf("%s: replayed %zu corpus inputs, ran %ld mutations (seed %llu)\n", argv[0],
              files.size(), runs, static_cast<unsigned long long>(seed));
  return 0;
}
