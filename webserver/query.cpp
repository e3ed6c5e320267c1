#include "webserver/query.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "platform/text.hpp"
#include "webserver/redfish_messages.hpp"

namespace dualsp::web::query {
namespace {

constexpr size_t kMaxEchoedBytes = 64;

// ---- the query string, pair by pair --------------------------------------------------------

// Calls fn(raw pair, decoded name) for each "name=value" pair of a raw query string.
template <typename Fn>
void forEachPair(std::string_view query, Fn fn) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (!pair.empty()) fn(pair, urlDecode(pair.substr(0, pair.find('='))));
  }
}

void appendPair(std::string& query, std::string_view pair) {
  if (!query.empty()) query += '&';
  query += pair;
}

// ---- names ---------------------------------------------------------------------------------

bool propertyNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '@' || c == '#' || c == '.';
}

bool validPropertyName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxPropertyNameBytes &&
         std::all_of(name.begin(), name.end(), propertyNameChar);
}

// "Oem/DualSP/CurrentOwner" -> its segments; nullopt when a segment is not a property name or
// there are more than kMaxSelectPathDepth.
std::optional<std::vector<std::string>> propertyPath(std::string_view text) {
  std::vector<std::string> segments;
  while (true) {
    const size_t slash = text.find('/');
    const std::string_view segment = text.substr(0, slash);
    if (!validPropertyName(segment) || segments.size() == kMaxSelectPathDepth) return std::nullopt;
    segments.emplace_back(segment);
    if (slash == std::string_view::npos) return segments;
    text.remove_prefix(slash + 1);
  }
}

std::string_view trimSpaces(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// ---- $select -------------------------------------------------------------------------------

// What every selected resource keeps (DSP0266 "$select").
bool alwaysSelected(std::string_view key) {
  return key == "@odata.id" || key == "@odata.type" || key == "@odata.context" ||
         key == "@odata.etag";
}

// A collection's own members, kept whatever is selected.
bool collectionMembersProperty(std::string_view key) {
  return key == "Members" || key.starts_with("Members@");
}

// "Drives@odata.count" -> "Drives": the property an annotation is about ("" for none).
std::string_view annotatedProperty(std::string_view key) {
  const size_t at = key.find('@');
  return at == std::string_view::npos || at == 0 ? std::string_view() : key.substr(0, at);
}

bool isReferenceOnly(const Json& value) {
  return value.is_object() && value.size() == 1 && value.contains("@odata.id");
}

void selectIn(Json& object, const SelectTree& tree, bool collection);

// A selected property narrowed by the rest of its path: an object, or each object of an array.
void narrowTo(Json& value, const SelectTree& tree) {
  if (value.is_object()) {
    selectIn(value, tree, false);
  } else if (value.is_array()) {
    for (Json& item : value)
      if (item.is_object()) selectIn(item, tree, false);
  }
}

void selectIn(Json& object, const SelectTree& tree, bool collection) {
  for (auto it = object.begin(); it != object.end();) {
    const std::string& key = it.key();
    if (alwaysSelected(key) || (collection && collectionMembersProperty(key))) {
      ++it;
      continue;
    }
    auto selected = tree.children.find(key);
    if (selected != tree.children.end()) {
      if (!selected->second.whole) narrowTo(it.value(), selected->second);
      ++it;
      continue;
    }
    const std::string_view owner = annotatedProperty(key);
    if (!owner.empty() && tree.children.find(owner) != tree.children.end()) {
      ++it;
      continue;
    }
    it = object.erase(it);
  }
}

// ---- $filter: tokens -----------------------------------------------------------------------

struct Token {
  enum class Kind : uint8_t { Open, Close, String, Number, Word, End };
  Kind kind = Kind::End;
  std::string text;  // String: the value, unquoted; Number, Word: as written
};

bool wordStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '@' || c == '#';
}

bool digit(char c) {
  return c >= '0' && c <= '9';
}

// An OData number: -?digits(.digits)?([eE][+-]?digits)?; the length taken, 0 for none.
size_t numberLength(std::string_view text) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < text.size() && digit(text[i])) ++i;
    return i > start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  if (!digits()) return 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits()) return 0;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (!digits()) return 0;
  }
  return i;
}

// The expression as tokens; nullopt when a string is unterminated or a character belongs to
// no token.
std::optional<std::vector<Token>> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t') {
      ++i;
    } else if (c == '(' || c == ')') {
      tokens.push_back({c == '(' ? Token::Kind::Open : Token::Kind::Close, {}});
      ++i;
    } else if (c == '\'') {
      std::string value;
      for (++i;; ++i) {
        if (i == text.size()) return std::nullopt;  // unterminated
        if (text[i] != '\'') {
          value += text[i];
        } else if (i + 1 < text.size() && text[i + 1] == '\'') {
          value += '\'';
          ++i;
        } else {
          break;
        }
      }
      ++i;
      tokens.push_back({Token::Kind::String, std::move(value)});
    } else if (digit(c) || c == '-') {
      const size_t length = numberLength(text.substr(i));
      // A number runs into the next token only through a space or a parenthesis: "12ab" is no
      // number and no name.
      if (length == 0 || (i + length < text.size() &&
                          (propertyNameChar(text[i + length]) || text[i + length] == '/')))
        return std::nullopt;
      tokens.push_back({Token::Kind::Number, std::string(text.substr(i, length))});
      i += length;
    } else if (wordStart(c)) {
      const size_t start = i;
      while (i < text.size() && (propertyNameChar(text[i]) || text[i] == '/')) ++i;
      tokens.push_back({Token::Kind::Word, std::string(text.substr(start, i - start))});
    } else {
      return std::nullopt;
    }
  }
  tokens.push_back({Token::Kind::End, {}});
  return tokens;
}

std::optional<CompareOp> compareOp(const std::string& word) {
  if (word == "eq") return CompareOp::Eq;
  if (word == "ne") return CompareOp::Ne;
  if (word == "gt") return CompareOp::Gt;
  if (word == "ge") return CompareOp::Ge;
  if (word == "lt") return CompareOp::Lt;
  if (word == "le") return CompareOp::Le;
  return std::nullopt;
}

// ---- $filter: the grammar ------------------------------------------------------------------
//   or-expr    := and-expr ("or" and-expr)*
//   and-expr   := unary ("and" unary)*
//   unary      := "not" unary | "(" or-expr ")" | comparison
//   comparison := operand ("eq"|"ne"|"gt"|"ge"|"lt"|"le") operand
//   operand    := 'string' | number | true | false | null | property/path

class FilterParser {
 public:
  explicit FilterParser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  // The whole expression; nullopt when it is malformed or nests deeper than kMaxFilterDepth
  // (tooDeep() tells which).
  std::optional<FilterNode> parse() {
    std::optional<FilterNode> root = parseOr(0);
    if (!root || peek().kind != Token::Kind::End) return std::nullopt;
    return root;
  }
  bool tooDeep() const { return too_deep_; }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool nextIsWord(std::string_view word) const {
    return peek().kind == Token::Kind::Word && peek().text == word;
  }

  // and-expr or or-expr: the operands of one operator in one node, so that a long chain of
  // "a and b and c ..." is one level deep, not one per operand.
  std::optional<FilterNode> parseChain(FilterNode::Kind kind, std::string_view word, int depth) {
    std::optional<FilterNode> first =
        kind == FilterNode::Kind::Or ? parseAnd(depth) : parseUnary(depth);
    if (!first || !nextIsWord(word)) return first;
    FilterNode chain;
    chain.kind = kind;
    chain.children.push_back(std::move(*first));
    while (nextIsWord(word)) {
      next();
      std::optional<FilterNode> operand =
          kind == FilterNode::Kind::Or ? parseAnd(depth) : parseUnary(depth);
      if (!operand) return std::nullopt;
      chain.children.push_back(std::move(*operand));
    }
    return chain;
  }
  std::optional<FilterNode> parseOr(int depth) {
    return parseChain(FilterNode::Kind::Or, "or", depth);
  }
  std::optional<FilterNode> parseAnd(int depth) {
    return parseChain(FilterNode::Kind::And, "and", depth);
  }

  std::optional<FilterNode> parseUnary(int depth) {
    if (nextIsWord("not") || peek().kind == Token::Kind::Open) {
      if (depth == kMaxFilterDepth) {
        too_deep_ = true;
        return std::nullopt;
      }
      if (next().kind == Token::Kind::Open) {
        std::optional<FilterNode> inner = parseOr(depth + 1);
        if (!inner || next().kind != Token::Kind::Close) return std::nullopt;
        return inner;
      }
      std::optional<FilterNode> operand = parseUnary(depth + 1);
      if (!operand) return std::nullopt;
      FilterNode negation;
      negation.kind = FilterNode::Kind::Not;
      negation.children.push_back(std::move(*operand));
      return negation;
    }
    return parseComparison();
  }

  std::optional<FilterNode> parseComparison() {
    std::optional<Operand> left = parseOperand();
    if (!left || peek().kind != Token::Kind::Word) return std::nullopt;
    std::optional<CompareOp> op = compareOp(next().text);
    if (!op) return std::nullopt;
    std::optional<Operand> right = parseOperand();
    if (!right) return std::nullopt;
    FilterNode comparison;
    comparison.op = *op;
    comparison.left = std::move(*left);
    comparison.right = std::move(*right);
    return comparison;
  }

  std::optional<Operand> parseOperand() {
    const Token& token = next();
    Operand operand;
    switch (token.kind) {
      case Token::Kind::String:
        operand.literal = token.text;
        return operand;
      case Token::Kind::Number:
        operand.literal = Json::parse(token.text, nullptr, false);
        if (!operand.literal.is_number()) return std::nullopt;
        return operand;
      case Token::Kind::Word:
        if (token.text == "true" || token.text == "false") {
          operand.literal = token.text == "true";
          return operand;
        }
        if (token.text == "null") return operand;  // literal null
        if (compareOp(token.text) || token.text == "and" || token.text == "or" ||
            token.text == "not")
          return std::nullopt;
        if (std::optional<std::vector<std::string>> path = propertyPath(token.text)) {
          operand.path = std::move(*path);
          return operand;
        }
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  bool too_deep_ = false;
};

// ---- $filter: evaluation -------------------------------------------------------------------

const Json& nullJson() {
  static const Json kNull;
  return kNull;
}

const Json& operandValue(const Operand& operand, const Json& resource) {
  if (operand.path.empty()) return operand.literal;
  const Json* at = &resource;
  for (const std::string& name : operand.path) {
    if (!at->is_object()) return nullJson();
    auto it = at->find(name);
    if (it == at->end()) return nullJson();
    at = &*it;
  }
  return *at;
}

// A JSON integer as sign and magnitude: int64 and uint64 compared without a wider type (none
// on the 32-bit firmware targets).
struct Integer {
  bool negative = false;
  uint64_t magnitude = 0;
};

Integer integerOf(const Json& value) {
  if (value.is_number_unsigned()) return {false, value.get<uint64_t>()};
  const int64_t v = value.get<int64_t>();
  return v < 0 ? Integer{true, uint64_t(0) - static_cast<uint64_t>(v)}
               : Integer{false, static_cast<uint64_t>(v)};
}

int compareIntegers(const Integer& a, const Integer& b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  if (a.magnitude == b.magnitude) return 0;
  const bool a_less = a.magnitude < b.magnitude;
  return (a_less != a.negative) ? -1 : 1;
}

int compareNumbers(const Json& a, const Json& b) {
  if (a.is_number_float() || b.is_number_float()) {
    const double x = a.get<double>();
    const double y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  return compareIntegers(integerOf(a), integerOf(b));
}

// -1, 0, 1; nullopt when the two cannot be ordered (different types, objects, arrays).
std::optional<int> order(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) return compareNumbers(a, b);
  if (a.is_string() && b.is_string()) {
    const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return std::nullopt;
}

bool equal(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) return compareNumbers(a, b) == 0;
  return a == b;
}

bool compare(CompareOp op, const Json& a, const Json& b) {
  switch (op) {
    case CompareOp::Eq:
      return equal(a, b);
    case CompareOp::Ne:
      return !equal(a, b);
    default:
      break;
  }
  std::optional<int> c = order(a, b);
  if (!c) return false;
  switch (op) {
    case CompareOp::Gt:
      return *c > 0;
    case CompareOp::Ge:
      return *c >= 0;
    case CompareOp::Lt:
      return *c < 0;
    default:
      return *c <= 0;
  }
}

bool evaluate(const FilterNode& node, const Json& resource) {
  switch (node.kind) {
    case FilterNode::Kind::Or:
      return std::any_of(node.children.begin(), node.children.end(),
                         [&](const FilterNode& child) { return evaluate(child, resource); });
    case FilterNode::Kind::And:
      return std::all_of(node.children.begin(), node.children.end(),
                         [&](const FilterNode& child) { return evaluate(child, resource); });
    case FilterNode::Kind::Not:
      return !evaluate(node.children.front(), resource);
    case FilterNode::Kind::Compare:
      break;
  }
  return compare(node.op, operandValue(node.left, resource), operandValue(node.right, resource));
}

}  // namespace

std::string shownQueryText(std::string_view text) {
  if (text::validUtf8(text)) return text::shortened(text, kMaxEchoedBytes);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string shown;
  for (unsigned char c : text::cutUtf8(text, kMaxEchoedBytes)) {
    if (c < 0x80) {
      shown += static_cast<char>(c);
    } else {
      shown += '%';
      shown += kHex[c >> 4];
      shown += kHex[c & 0xF];
    }
  }
  return shown;
}

std::optional<Expand> parseExpand(std::string_view value, Response& res) {
  Expand expand;
  std::string_view rest = value;
  if (rest.starts_with('.')) {
    expand.kind = ExpandKind::Subordinate;
  } else if (rest.starts_with('~')) {
    expand.kind = ExpandKind::Links;
  } else if (rest.starts_with('*')) {
    expand.kind = ExpandKind::All;
  } else {
    messages::queryParameterValueFormatError(res, shownQueryText(value), kExpand);
    return std::nullopt;
  }
  rest.remove_prefix(1);
  expand.levels = 1;
  if (rest.empty()) return expand;
  constexpr std::string_view kLevels = "($levels=";
  uint64_t levels = 0;
  const char* end = rest.data() + rest.size();
  std::from_chars_result parsed{};
  if (rest.starts_with(kLevels))
    parsed = std::from_chars(rest.data() + kLevels.size(), end - 1, levels);
  const bool well_formed =
      rest.starts_with(kLevels) && rest.ends_with(')') && rest.size() > kLevels.size() + 1 &&
      parsed.ptr == end - 1 &&
      (parsed.ec == std::errc() || parsed.ec == std::errc::result_out_of_range);
  if (!well_formed) {
    messages::queryParameterValueFormatError(res, shownQueryText(value), kExpand);
    return std::nullopt;
  }
  if (parsed.ec != std::errc() || levels < 1 || levels > uint64_t(kMaxExpandLevels)) {
    messages::queryParameterOutOfRange(res, shownQueryText(value), kExpand,
                                       "$levels 1 to " + std::to_string(kMaxExpandLevels));
    return std::nullopt;
  }
  expand.levels = static_cast<int>(levels);
  return expand;
}

std::optional<SelectTree> parseSelect(std::string_view value, Response& res) {
  const std::string range = "at most " + std::to_string(kMaxSelectPaths) + " properties in " +
                            std::to_string(kMaxSelectBytes) + " bytes";
  if (value.size() > kMaxSelectBytes) {
    messages::queryParameterOutOfRange(res, shownQueryText(value), kSelect, range);
    return std::nullopt;
  }
  SelectTree tree;
  size_t paths = 0;
  std::string_view rest = value;
  while (true) {
    const size_t comma = rest.find(',');
    std::optional<std::vector<std::string>> path = propertyPath(trimSpaces(rest.substr(0, comma)));
    if (!path) {
      messages::queryParameterValueFormatError(res, shownQueryText(value), kSelect);
      return std::nullopt;
    }
    if (++paths > kMaxSelectPaths) {
      messages::queryParameterOutOfRange(res, shownQueryText(value), kSelect, range);
      return std::nullopt;
    }
    SelectTree* node = &tree;
    for (const std::string& name : *path) node = &node->children[name];
    node->whole = true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return tree;
}

void applySelect(Json& resource, const SelectTree& select) {
  if (!resource.is_object()) return;
  auto found = resource.find("Members");
  const bool collection = found != resource.end() && found->is_array();
  selectIn(resource, select, collection);
  if (!collection) return;
  Json& members = resource["Members"];  // found again: the erasures moved it
  // "Members/Name" narrows the members by what follows Members; otherwise each member keeps
  // what is selected of the collection (DSP0266: the selection applies to its members).
  auto under_members = select.children.find("Members");
  const SelectTree& member_tree =
      under_members != select.children.end() && !under_members->second.whole ? under_members->second
                                                                             : select;
  for (Json& member : members)
    if (member.is_object() && !isReferenceOnly(member)) selectIn(member, member_tree, false);
}

bool Filter::matches(const Json& resource) const {
  return evaluate(root_, resource);
}

std::optional<Filter> parseFilter(std::string_view value, Response& res) {
  const std::string range = "at most " + std::to_string(kMaxFilterBytes) + " bytes and " +
                            std::to_string(kMaxFilterDepth) + " nested parentheses or nots";
  if (value.size() > kMaxFilterBytes) {
    messages::queryParameterOutOfRange(res, shownQueryText(value), kFilter, range);
    return std::nullopt;
  }
  std::optional<std::vector<Token>> tokens = tokenize(value);
  if (!tokens) {
    messages::queryParameterValueFormatError(res, shownQueryText(value), kFilter);
    return std::nullopt;
  }
  FilterParser parser(std::move(*tokens));
  std::optional<FilterNode> root = parser.parse();
  if (!root) {
    if (parser.tooDeep())
      messages::queryParameterOutOfRange(res, shownQueryText(value), kFilter, range);
    else
      messages::queryParameterValueFormatError(res, shownQueryText(value), kFilter);
    return std::nullopt;
  }
  return Filter(std::move(*root));
}

std::optional<uint64_t> parseCount(std::string_view value, std::string_view parameter,
                                   Response& res) {
  uint64_t n = 0;
  const char* end = value.data() + value.size();
  auto [stop, ec] = std::from_chars(value.data(), end, n);
  if (ec == std::errc::result_out_of_range && stop == end) return UINT64_MAX;
  if (ec != std::errc() || stop != end || value.empty()) {
    messages::queryParameterValueTypeError(res, shownQueryText(value), parameter);
    return std::nullopt;
  }
  return n;
}

std::string queryWithSkip(std::string_view query, uint64_t skip) {
  const std::string skip_pair = std::string(kSkip) + "=" + std::to_string(skip);
  std::string out;
  bool replaced = false;
  forEachPair(query, [&](std::string_view pair, const std::string& name) {
    if (name != kSkip) {
      appendPair(out, pair);
    } else if (!replaced) {
      appendPair(out, skip_pair);
      replaced = true;
    }
  });
  if (!replaced) appendPair(out, skip_pair);
  return out;
}

std::string linkWithQuery(std::string_view link, std::string_view query) {
  const size_t question = link.find('?');
  const std::string_view own = question == std::string_view::npos ? "" : link.substr(question + 1);
  std::vector<std::string> named;
  forEachPair(own, [&](std::string_view, const std::string& name) { named.push_back(name); });
  std::string out(link);
  bool first = question == std::string_view::npos;
  forEachPair(query, [&](std::string_view pair, const std::string& name) {
    if (std::find(named.begin(), named.end(), name) != named.end()) return;
    named.push_back(name);
    out += first ? '?' : '&';
    out += pair;
    first = false;
  });
  return out;
}

std::optional<Options> parseOptions(const Request& request,
                                    std::span<const std::string_view> route_owned, Response& res) {
  const std::vector<std::string> names = request.queryParameterNames();
  for (std::string_view generic : kGenericParameters) {
    if (std::count(names.begin(), names.end(), generic) > 1) {
      messages::queryCombinationInvalid(res);
      return std::nullopt;
    }
  }
  auto owned = [&](std::string_view name) {
    return std::find(route_owned.begin(), route_owned.end(), name) != route_owned.end();
  };
  Options options;
  if (std::optional<std::string> value = request.queryParameter(kExpand)) {
    std::optional<Expand> expand = parseExpand(*value, res);
    if (!expand) return std::nullopt;
    options.expand = *expand;
  }
  if (std::optional<std::string> value = request.queryParameter(kSelect)) {
    options.select = parseSelect(*value, res);
    if (!options.select) return std::nullopt;
  }
  if (std::optional<std::string> value = request.queryParameter(kFilter)) {
    options.filter = parseFilter(*value, res);
    if (!options.filter) return std::nullopt;
  }
  options.read_every_page = options.filter && (owned(kTop) || owned(kSkip));
  for (auto [name, target] : {std::pair{kTop, &options.top}, std::pair{kSkip, &options.skip}}) {
    std::optional<std::string> value = request.queryParameter(name);
    if (!value || (owned(name) && !options.read_every_page)) continue;
    *target = parseCount(*value, name, res);
    if (!*target) return std::nullopt;
  }
  return options;
}

Request withoutPaging(const Request& request) {
  Request out = request;
  out.query.clear();
  forEachPair(request.query, [&](std::string_view pair, const std::string& name) {
    if (name != kTop && name != kSkip) appendPair(out.query, pair);
  });
  return out;
}

}  // namespace dualsp::web::query
