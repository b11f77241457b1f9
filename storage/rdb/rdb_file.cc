// RDB file assembly and parsing (see rdb_file.h).
#include "storage/rdb/rdb_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/rdb/crc64.h"

namespace shardis::rdb {

std::string FileHeader(const std::vector<std::pair<std::string, std::string>>& aux) {
  char magic[16];
  snprintf(magic, sizeof(magic), "REDIS%04d", kRdbVersion);
  std::string out = magic;
  Writer w(&out);
  for (const auto& [k, v] : aux) {
    w.U8(kOpAux);
    w.String(k, false);
    w.String(v, false);
  }
  return out;
}

void AppendFunctions(std::string* out, const std::vector<std::string>& codes) {
  Writer w(out);
  for (const std::string& code : codes) {
    w.U8(kOpFunction2);
    w.String(code, false);
  }
}

void AppendKeyRecord(std::string* out, std::string_view key, int64_t expire_ms, ValueType type,
                     std::string_view str, const Collection* coll, const SaveOptions& options) {
  Writer w(out);
  if (expire_ms >= 0) {
    w.U8(kOpExpireTimeMs);
    w.MillisLE(expire_ms);
  }
  w.U8(ObjectType(type, coll));
  w.String(key, options.compress);
  SaveObject(w, type, str, coll, options);
}

void AppendDbHeader(std::string* out, int db, uint64_t keys, uint64_t expires) {
  Writer w(out);
  w.U8(kOpSelectDb);
  w.Len(static_cast<uint64_t>(db));
  w.U8(kOpResizeDb);
  w.Len(keys);
  w.Len(expires);
}

namespace {

bool WriteAll(int fd, std::string_view data, uint64_t* crc, bool checksum) {
  if (checksum) *crc = Crc64(*crc, data);
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Streams a section's spilled records through `put`, 1 MB at a time.
template <typename Put>
bool CopySpill(const std::string& path, Put& put) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string chunk(1 << 20, '\0');
  bool ok = true;
  for (;;) {
    ssize_t n = read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    if (!put(std::string_view(chunk.data(), static_cast<size_t>(n)))) {
      ok = false;
      break;
    }
  }
  int saved = errno;
  close(fd);
  errno = saved;
  return ok;
}

// The file's bytes after the header, in order, through `put` (which keeps the checksum): for
// each db index its shards' pieces under one SELECTDB/RESIZEDB (dbs without keys left out), EOF,
// then the CRC64 trailer from `trailer_crc` (called once the rest is through).
template <typename Put, typename Crc>
bool EmitFile(const std::vector<std::vector<DbSection*>>& dbs, Put& put, Crc trailer_crc) {
  bool ok = true;
  for (size_t db = 0; ok && db < dbs.size(); ++db) {
    uint64_t keys = 0, expires = 0;
    for (const DbSection* s : dbs[db]) {
      keys += s->keys;
      expires += s->expires;
    }
    if (keys == 0) continue;
    std::string head;
    AppendDbHeader(&head, static_cast<int>(db), keys, expires);
    ok = put(head);
    for (const DbSection* s : dbs[db]) {
      if (!ok) break;
      if (!s->spill_path.empty()) ok = CopySpill(s->spill_path, put);
      if (ok) ok = put(s->bytes);
    }
  }
  if (ok) {
    std::string eof(1, static_cast<char>(kOpEof));
    ok = put(eof);
  }
  if (ok) {
    std::string trailer;
    Writer(&trailer).U64LE(trailer_crc());
    ok = put(trailer);
  }
  return ok;
}

}  // namespace

std::string FileBytes(const std::string& header, const std::vector<std::vector<DbSection*>>& dbs,
                      bool checksum) {
  std::string out = header;
  uint64_t crc = checksum ? Crc64(0, header) : 0;
  bool trailer = false;
  auto put = [&](std::string_view data) {
    if (checksum && !trailer) crc = Crc64(crc, data);
    out.append(data);
    return true;
  };
  if (!EmitFile(dbs, put, [&] {
        trailer = true;
        return crc;
      })) {
    return "";  // (a spill file could not be read)
  }
  return out;
}

std::string WriteFile(const std::string& dir, const std::string& filename,
                      const std::string& header, const std::vector<std::vector<DbSection*>>& dbs,
                      bool checksum, uint64_t* bytes_written) {
  std::string tmp = dir + "/temp-" + std::to_string(getpid()) + ".rdb";
  std::string final_path = dir + "/" + filename;
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return "Failed opening the temp RDB file " + tmp + " (in server root dir " + dir +
           ") for saving: " + strerror(errno);
  }
  uint64_t crc = 0;
  uint64_t total = 0;
  bool trailer = false;
  auto put = [&](std::string_view data) {
    total += data.size();
    return WriteAll(fd, data, &crc, checksum && !trailer);
  };
  bool ok = put(header) && EmitFile(dbs, put, [&] {
              trailer = true;
              return checksum ? crc : 0;
            });
  int saved_errno = errno;
  if (ok && fsync(fd) != 0) {
    ok = false;
    saved_errno = errno;
  }
  close(fd);
  if (!ok) {
    unlink(tmp.c_str());
    return std::string("Write error saving DB on disk: ") + strerror(saved_errno);
  }
  if (rename(tmp.c_str(), final_path.c_str()) != 0) {
    saved_errno = errno;
    unlink(tmp.c_str());
    return "Error moving temp DB file " + tmp + " on the final destination " + final_path + ": " +
           strerror(saved_errno);
  }
  // Make the rename durable too.
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  if (bytes_written != nullptr) *bytes_written = total;
  return "";
}

std::string ParseFile(std::string_view data, const LoadLimits& limits, int64_t now_ms, int num_dbs,
                      const KeySink& sink, LoadStats* stats, const LoadProgress& progress) {
  if (data.size() < 9 || data.substr(0, 5) != "REDIS") {
    return "Wrong signature trying to load DB from file";
  }
  int version = 0;
  for (int i = 5; i < 9; ++i) {
    if (data[i] < '0' || data[i] > '9') return "Wrong signature trying to load DB from file";
    version = version * 10 + (data[i] - '0');
  }
  if (version < 1 || version > 11) {
    return "Can't handle RDB format version " + std::to_string(version);
  }
  stats->version = version;
  Reader r(data.substr(9), 9);
  int db = 0;
  int64_t expire_ms = -1;
  int64_t idle_s = -1;
  while (true) {
    uint8_t type;
    size_t record_start = r.pos();
    if (!r.U8(&type)) return r.error();
    switch (type) {
      case kOpExpireTime: {
        uint32_t secs;
        if (!r.U32LE(&secs)) return r.error();
        expire_ms = static_cast<int64_t>(static_cast<int32_t>(secs)) * 1000;
        continue;
      }
      case kOpExpireTimeMs:
        if (!r.MillisLE(&expire_ms)) return r.error();
        continue;
      case kOpIdle: {
        uint64_t idle;
        if (!r.Len(&idle)) return r.error();
        idle_s = static_cast<int64_t>(idle);
        continue;
      }
      case kOpFreq: {
        uint8_t freq;
        if (!r.U8(&freq)) return r.error();
        continue;
      }
      case kOpSelectDb: {
        uint64_t n;
        if (!r.Len(&n)) return r.error();
        if (n >= static_cast<uint64_t>(num_dbs)) {
          return "FATAL: Data file was created with a Redis server configured to handle more "
                 "than " +
                 std::to_string(num_dbs) + " databases (SELECTDB " + std::to_string(n) +
                 " at offset " + std::to_string(9 + record_start) + "). Exiting";
        }
        db = static_cast<int>(n);
        continue;
      }
      case kOpResizeDb: {
        uint64_t a, b;
        if (!r.Len(&a) || !r.Len(&b)) return r.error();
        continue;
      }
      case kOpAux: {
        std::string k, v;
        if (!r.String(&k) || !r.String(&v)) return r.error();
        continue;
      }
      case kOpModuleAux:
        r.Fail("module data (MODULE_AUX) is not supported");
        return r.error();
      case kOpFunction2: {
        std::string code;
        if (!r.String(&code)) return r.error();
        stats->functions.push_back(std::move(code));
        continue;
      }
      case kOpFunctionPreGa:
        r.Fail("Pre-release function format not supported");
        return r.error();
      case kOpEof: {
        if (version >= 5) {
          size_t crc_end = 9 + r.pos();
          int64_t stored;
          if (!r.MillisLE(&stored)) return r.error();
          if (stored != 0 && !limits.skip_checksum) {
            uint64_t crc = Crc64(0, data.substr(0, crc_end));
            if (crc != static_cast<uint64_t>(stored)) {
              return "Wrong RDB checksum (expected " + std::to_string(crc) + ", got " +
                     std::to_string(static_cast<uint64_t>(stored)) + ") at offset " +
                     std::to_string(crc_end);
            }
          }
        }
        return "";
      }
      default:
        break;
    }
    LoadedKey k;
    k.db = db;
    k.expire_ms = expire_ms;
    k.idle_s = idle_s;
    expire_ms = -1;
    idle_s = -1;
    if (!r.String(&k.key)) return r.error();
    LoadResult res = LoadObject(type, r, limits, &k.value);
    if (res == LoadResult::kError) {
      return r.error() + " (key '" + k.key + "', record at offset " +
             std::to_string(9 + record_start) + ")";
    }
    if (res == LoadResult::kEmpty) {
      ++stats->empty_skipped;
      continue;
    }
    if (k.expire_ms >= 0 && k.expire_ms < now_ms) {
      ++stats->expired_skipped;
      continue;
    }
    std::string err = sink(std::move(k));
    if (!err.empty()) return err + " (record at offset " + std::to_string(9 + record_start) + ")";
    ++stats->keys;
    if (progress && stats->keys % kProgressKeys == 0) progress(9 + r.pos(), stats->keys);
  }
}

}  // namespace shardis::rdb
