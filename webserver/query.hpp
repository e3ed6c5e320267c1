#pragma once
// The query parameters every Redfish resource's GET takes (DSP0266 "Query parameters";
// docs/WEB.md "Protocol"): $expand, $select, $filter, $top and $skip, parsed from the request
// and the pure parts of applying them (filter evaluation, select, paging). The reads that
// $expand and $filter need are query_apply.hpp's, through the dispatcher's routes.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "webserver/http_types.hpp"
#include "webserver/json.hpp"

namespace dualsp::web::query {

inline constexpr std::string_view kExpand = "$expand";
inline constexpr std::string_view kSelect = "$select";
inline constexpr std::string_view kFilter = "$filter";
inline constexpr std::string_view kTop = "$top";
inline constexpr std::string_view kSkip = "$skip";
// What every resource's GET takes; any other $ parameter ($only, $count, $search, $apply,
// $orderby, ...) is still 501 QueryParameterUnsupported.
inline constexpr std::string_view kGenericParameters[] = {kExpand, kSelect, kFilter, kTop, kSkip};

// Bounds on what one request may ask (docs/WEB.md "Protocol"): each a clear 400, never
// unbounded work. ServiceRoot's ProtocolFeaturesSupported.ExpandQuery.MaxLevels.
inline constexpr int kMaxExpandLevels = 3;
inline constexpr size_t kMaxFilterBytes = 1024;
// Nested parentheses and `not`s: the parser and the evaluator recurse this deep at most.
inline constexpr int kMaxFilterDepth = 16;
inline constexpr size_t kMaxSelectBytes = 1024;
inline constexpr size_t kMaxSelectPaths = 32;
inline constexpr size_t kMaxSelectPathDepth = 8;
// A property name in $select or $filter (DSP0266 "Properties": letters, digits, _, and the
// @ # . of annotations such as Members@odata.count).
inline constexpr size_t kMaxPropertyNameBytes = 64;

// The query text echoed in an error message: at most 64 bytes, and valid UTF-8 even when the
// client's %-escapes decode to bytes that are not (those shown %-escaped again).
std::string shownQueryText(std::string_view text);

// ---- $expand -------------------------------------------------------------------------------

enum class ExpandKind : uint8_t {
  None,
  Subordinate,  // "." : every hyperlink not in a Links property (Members among them)
  Links,        // "~" : the hyperlinks in Links properties only
  All,          // "*" : every hyperlink
};

struct Expand {
  ExpandKind kind = ExpandKind::None;
  int levels = 0;  // 1..kMaxExpandLevels when kind is not None
};

// ".", "*", "~", optionally followed by "($levels=N)". nullopt with the error set on `res`:
// QueryParameterValueFormatError, or QueryParameterOutOfRange for N outside 1..MaxLevels.
std::optional<Expand> parseExpand(std::string_view value, Response& res);

// ---- $select -------------------------------------------------------------------------------

// The selected properties as a tree: "Status/Health,Name" -> {Status: {Health: *}, Name: *}.
struct SelectTree {
  bool whole = false;  // this property is selected entirely
  std::map<std::string, SelectTree, std::less<>> children;
};

// "Prop1,Prop2,Sub/Prop". nullopt with QueryParameterValueFormatError (or OutOfRange for more
// than the bounds above) set on `res`.
std::optional<SelectTree> parseSelect(std::string_view value, Response& res);

// Keeps only the selected properties of `resource`, and always its @odata.id, @odata.type,
// @odata.context and @odata.etag. A selected property keeps its own annotations
// ("Drives@odata.count" with "Drives"). A collection keeps Members, Members@odata.count and
// Members@odata.nextLink, and each expanded member keeps what is selected.
void applySelect(Json& resource, const SelectTree& select);

// ---- $filter -------------------------------------------------------------------------------

enum class CompareOp : uint8_t { Eq, Ne, Gt, Ge, Lt, Le };

// One side of a comparison: a property path ("Oem/DualSP/CurrentOwner") or a literal
// ('text', 12, 1.5, true, false, null).
struct Operand {
  std::vector<std::string> path;  // empty: `literal`
  Json literal;
};

struct FilterNode {
  enum class Kind : uint8_t { Or, And, Not, Compare };
  Kind kind = Kind::Compare;
  std::vector<FilterNode> children;  // Or, And: two or more; Not: one
  CompareOp op = CompareOp::Eq;      // Compare
  Operand left, right;               // Compare
};

class Filter {
 public:
  explicit Filter(FilterNode root) : root_(std::move(root)) {}
  // Does `resource` (a collection member) satisfy the expression? A property it lacks is
  // null; eq and ne compare any two values, gt ge lt le numbers with numbers and strings with
  // strings (anything else does not match).
  bool matches(const Json& resource) const;
  const FilterNode& root() const { return root_; }

 private:
  FilterNode root_;
};

// `eq ne gt ge lt le`, `and or not`, parentheses; string literals in single quotes ('' is a
// quote), numbers, true, false, null; property paths with '/'. nullopt with the error set on
// `res`: QueryParameterValueFormatError for a malformed expression, QueryParameterOutOfRange
// beyond kMaxFilterBytes or kMaxFilterDepth.
std::optional<Filter> parseFilter(std::string_view value, Response& res);

// ---- $top / $skip --------------------------------------------------------------------------

// A count: decimal digits only (a value above 2^64-1 counts as 2^64-1). nullopt with
// QueryParameterValueTypeError set on `res` for anything else.
std::optional<uint64_t> parseCount(std::string_view value, std::string_view parameter,
                                   Response& res);

// The same query string with $skip set to `skip` (replaced, or appended): the
// Members@odata.nextLink of a page. The other parameters stay as the client sent them.
std::string queryWithSkip(std::string_view query, uint64_t skip);

// `link` ("<path>?$skip=50&$top=50", a route's own next page) with every parameter of `query`
// it does not name appended, so that following it keeps the client's $select, $expand, ...
std::string linkWithQuery(std::string_view link, std::string_view query);

// ---- all of them ---------------------------------------------------------------------------

struct Options {
  Expand expand;
  std::optional<SelectTree> select;
  std::optional<Filter> filter;
  // The generic paging, applied after the filter. A parameter the route implements itself
  // (Route::queries) is the route's and not here, unless $filter is given (then every page of
  // the route is read and paging applies to the filtered members).
  std::optional<uint64_t> top;
  std::optional<uint64_t> skip;
  // The route pages itself and the filter needs all of its members: the handler is asked
  // without $top and $skip, and its Members@odata.nextLink is followed.
  bool read_every_page = false;

  bool empty() const {
    return expand.kind == ExpandKind::None && !select && !filter && !top && !skip;
  }
};

// The generic query parameters of `request` (the first of each name). `route_owned` lists the
// parameters the route implements itself. nullopt with the 400 set on `res`.
std::optional<Options> parseOptions(const Request& request,
                                    std::span<const std::string_view> route_owned, Response& res);

// `request` without its $top and $skip: what a route that pages itself is asked when the
// dispatcher filters every page (Options::read_every_page).
Request withoutPaging(const Request& request);

}  // namespace dualsp::web::query
