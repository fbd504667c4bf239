// The Flight Recorder pickle subset (FORMATS-hangs.md §1.3): torch's C++ Pickler writes protocol
// 2 with dicts, lists, strings, ints, one float, bools, None and 2-tuples only. This decoder
// knows those opcodes and the few Python adds when it re-saves a dump; every other opcode
// (GLOBAL, REDUCE, BUILD, persistent ids: anything that loads or calls) is refused. Objects live
// in an arena and the memo holds arena indices, so a container shared by BINGET (frame dicts are)
// is the same object wherever it is referenced, as in Python.
#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <unordered_map>

#include "analyze_logs/hangs.hpp"

namespace alog::hangs {

namespace {

struct Node {
  enum class T : uint8_t { dict, list, tuple, str, integer, real, boolean, none } t = T::none;
  int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<uint32_t> items;  // dict: key, value, key, value …
};

class Decoder {
 public:
  Decoder(std::string_view b, size_t max_values) : b_(b), max_values_(max_values) {}

  nlohmann::json run() {
    for (;;) {
      if (pos_ >= b_.size()) fail("ends before STOP (truncated: the writer was killed mid-write?)");
      size_t at = pos_;
      auto op = static_cast<uint8_t>(b_[pos_++]);
      switch (op) {
        case 0x80: {  // PROTO
          uint8_t v = u8();
          if (v < 2 || v > 5) fail(fmt::format("protocol {} (Flight Recorder writes 2)", v), at);
          break;
        }
        case 0x95:
          take(8);
          break;     // FRAME (a re-saved dump): the length is only a read hint
        case '.': {  // STOP
          if (stack_.size() != 1)
            fail(fmt::format("STOP with {} values on the stack", stack_.size()), at);
          size_t budget = max_values_;
          return to_json(stack_.back(), 0, budget);
        }
        case '(':
          marks_.push_back(stack_.size());
          break;
        case '}':
          push(make(Node::T::dict));
          break;
        case ']':
          push(make(Node::T::list));
          break;
        case ')':
          push(make(Node::T::tuple));
          break;
        case 'N':
          push(make(Node::T::none));
          break;
        case 0x88:
          push(boolean(true));
          break;
        case 0x89:
          push(boolean(false));
          break;
        case 'K':
          push(integer(u8()));
          break;
        case 'M': {
          auto s = take(2);
          push(integer(static_cast<uint8_t>(s[0]) | (static_cast<uint8_t>(s[1]) << 8)));
          break;
        }
        case 'J':
          push(integer(static_cast<int32_t>(le(take(4)))));
          break;
        case 0x8a: {  // LONG1: n bytes, little-endian two's complement
          uint8_t n = u8();
          if (n > 8) fail(fmt::format("LONG1 of {} bytes (more than 64 bits)", n), at);
          auto s = take(n);
          uint64_t v = le(s);
          if (n > 0 && n < 8 && (static_cast<uint8_t>(s[n - 1]) & 0x80))
            v |= ~uint64_t{0} << (8 * n);
          push(integer(static_cast<int64_t>(v)));
          break;
        }
        case 'G': {  // BINFLOAT, big-endian
          auto s = take(8);
          uint64_t v = 0;
          for (char c : s) v = (v << 8) | static_cast<uint8_t>(c);
          Node n;
          n.t = Node::T::real;
          n.d = std::bit_cast<double>(v);
          push(add(std::move(n)));
          break;
        }
        case 'X':
          push(str(take(le(take(4)))));
          break;
        case 0x8c:
          push(str(take(u8())));
          break;
        case 'q':
          memo(u8(), at);
          break;
        case 'r':
          memo(le(take(4)), at);
          break;
        case 0x94:
          memo(static_cast<uint64_t>(memo_.size()), at);
          break;  // MEMOIZE
        case 'h':
          get(u8(), at);
          break;
        case 'j':
          get(le(take(4)), at);
          break;
        case 's': {  // SETITEM
          uint32_t v = pop(at), k = pop(at);
          auto& d = container(top(at), Node::T::dict, at);
          d.items.push_back(k);
          d.items.push_back(v);
          break;
        }
        case 'u': {  // SETITEMS
          auto items = since_mark(at);
          if (items.size() % 2) fail("SETITEMS with an odd number of values", at);
          auto& d = container(top(at), Node::T::dict, at);
          d.items.insert(d.items.end(), items.begin(), items.end());
          break;
        }
        case 'a': {  // APPEND
          uint32_t v = pop(at);
          container(top(at), Node::T::list, at).items.push_back(v);
          break;
        }
        case 'e': {  // APPENDS
          auto items = since_mark(at);
          auto& l = container(top(at), Node::T::list, at);
          l.items.insert(l.items.end(), items.begin(), items.end());
          break;
        }
        case 't':
          tuple(since_mark(at));
          break;
        case 0x85:
          tuple(pops(1, at));
          break;
        case 0x86:
          tuple(pops(2, at));
          break;
        case 0x87:
          tuple(pops(3, at));
          break;
        default:
          fail(refused(op), at);
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why, size_t at = SIZE_MAX) const {
    throw PickleError(fmt::format("not a Flight Recorder pickle: {} (at byte {})", why,
                                  at == SIZE_MAX ? pos_ : at));
  }
  static std::string refused(uint8_t op) {
    const char* name = nullptr;
    switch (op) {
      case 'c':
        name = "GLOBAL";
        break;
      case 0x93:
        name = "STACK_GLOBAL";
        break;
      case 'R':
        name = "REDUCE";
        break;
      case 'b':
        name = "BUILD";
        break;
      case 'i':
        name = "INST";
        break;
      case 'o':
        name = "OBJ";
        break;
      case 0x81:
        name = "NEWOBJ";
        break;
      case 0x92:
        name = "NEWOBJ_EX";
        break;
      case 'P':
        name = "PERSID";
        break;
      case 'Q':
        name = "BINPERSID";
        break;
      case 0x82:
      case 0x83:
      case 0x84:
        name = "EXT";
        break;
      default:
        break;
    }
    if (name) return fmt::format("opcode {} (0x{:02x}) loads or calls code; refused", name, op);
    return fmt::format("opcode 0x{:02x} is outside the subset torch's writer emits", op);
  }
  uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
  std::string_view take(uint64_t n) {
    if (n > b_.size() - pos_)
      fail(fmt::format("ends inside a value ({} bytes wanted, {} left; truncated?)", n,
                       b_.size() - pos_));
    auto s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  static uint64_t le(std::string_view s) {
    uint64_t v = 0;
    for (size_t k = s.size(); k-- > 0;) v = (v << 8) | static_cast<uint8_t>(s[k]);
    return v;
  }
  uint32_t add(Node n) {
    arena_.push_back(std::move(n));
    return static_cast<uint32_t>(arena_.size() - 1);
  }
  uint32_t make(Node::T t) {
    Node n;
    n.t = t;
    return add(std::move(n));
  }
  uint32_t boolean(bool v) {
    Node n;
    n.t = Node::T::boolean;
    n.i = v;
    return add(std::move(n));
  }
  uint32_t integer(int64_t v) {
    Node n;
    n.t = Node::T::integer;
    n.i = v;
    return add(std::move(n));
  }
  uint32_t str(std::string_view s) {
    Node n;
    n.t = Node::T::str;
    n.s = std::string(s);
    return add(std::move(n));
  }
  void push(uint32_t n) { stack_.push_back(n); }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  uint32_t top(size_t at) {
    if (stack_.size() <= floor()) fail("an opcode needs a value and the stack is empty", at);
    return stack_.back();
  }
  uint32_t pop(size_t at) {
    uint32_t v = top(at);
    stack_.pop_back();
    return v;
  }
  std::vector<uint32_t> pops(size_t n, size_t at) {
    if (stack_.size() < floor() + n)
      fail("a tuple opcode needs more values than the stack holds", at);
    std::vector<uint32_t> v(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return v;
  }
  std::vector<uint32_t> since_mark(size_t at) {
    if (marks_.empty()) fail("no MARK before it", at);
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<uint32_t> v(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return v;
  }
  Node& container(uint32_t idx, Node::T t, size_t at) {
    if (arena_[idx].t != t)
      fail(t == Node::T::dict ? "items set on a value that is not a dict"
                              : "items appended to a value that is not a list",
           at);
    return arena_[idx];
  }
  void tuple(std::vector<uint32_t> items) {
    Node n;
    n.t = Node::T::tuple;
    n.items = std::move(items);
    push(add(std::move(n)));
  }
  void memo(uint64_t key, size_t at) {
    if (stack_.empty()) fail("memo put with an empty stack", at);
    if (memo_.size() > arena_.size() + 1) fail("more memo entries than values", at);
    memo_[key] = stack_.back();
  }
  void get(uint64_t key, size_t at) {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail(fmt::format("memo {} read before it was written", key), at);
    push(it->second);
  }

  nlohmann::json to_json(uint32_t idx, int depth, size_t& budget) const {
    if (depth > 64) fail("nested deeper than 64 (or refers to itself)", SIZE_MAX);
    if (budget == 0)
      fail("shared objects expand into more values than a Flight Recorder dump holds", SIZE_MAX);
    --budget;
    const Node& n = arena_[idx];
    switch (n.t) {
      case Node::T::none:
        return nullptr;
      case Node::T::boolean:
        return n.i != 0;
      case Node::T::integer:
        return n.i;
      case Node::T::real:
        return n.d;
      case Node::T::str:
        return n.s;
      case Node::T::list:
      case Node::T::tuple: {
        nlohmann::json a = nlohmann::json::array();
        for (uint32_t c : n.items) a.push_back(to_json(c, depth + 1, budget));
        return a;
      }
      case Node::T::dict: {
        nlohmann::json o = nlohmann::json::object();
        for (size_t k = 0; k + 1 < n.items.size(); k += 2) {
          const Node& key = arena_[n.items[k]];
          std::string ks;
          if (key.t == Node::T::str)
            ks = key.s;
          else if (key.t == Node::T::integer)
            ks = std::to_string(key.i);  // v1.x pg_config
          else
            fail("a dict key that is neither a string nor an integer", SIZE_MAX);
          o[ks] = to_json(n.items[k + 1], depth + 1, budget);
        }
        return o;
      }
    }
    return nullptr;
  }

  std::string_view b_;
  size_t max_values_;
  size_t pos_ = 0;
  std::vector<Node> arena_;
  std::vector<uint32_t> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, uint32_t> memo_;
};

}  // namespace

nlohmann::json read_pickle(std::string_view bytes, size_t max_values) {
  if (bytes.size() < 2 || static_cast<uint8_t>(bytes[0]) != 0x80)
    throw PickleError(fmt::format("not a Flight Recorder pickle: {}",
                                  bytes.empty() ? "empty file" : "no PROTO opcode at byte 0"));
  return Decoder(bytes, max_values).run();
}

}  // namespace alog::hangs
