#include "webserver/query_apply.hpp"

#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "webserver/redfish_messages.hpp"

namespace dualsp::web::query {
namespace {

constexpr std::string_view kMembers = "Members";
constexpr std::string_view kMembersCount = "Members@odata.count";
constexpr std::string_view kNextLink = "Members@odata.nextLink";
constexpr std::string_view kServiceRoot = "/redfish/v1/";

bool isCollection(const Json& body) {
  auto members = body.find(kMembers);
  return members != body.end() && members->is_array();
}

// {"@odata.id": "/redfish/v1/..."}: a hyperlink to a resource of this service. One into a
// resource ("...#/Fans/0") or with a query is not a resource to GET.
bool isResourceReference(const Json& value) {
  if (!value.is_object() || value.size() != 1) return false;
  auto id = value.find("@odata.id");
  if (id == value.end() || !id->is_string()) return false;
  std::string_view uri = id->get_ref<const std::string&>();
  return uri.starts_with(kServiceRoot) && uri.find_first_of("#?") == std::string_view::npos;
}

// The hyperlinks `kind` expands where they are: in a Links property or not (DSP0266 "$expand").
bool expands(ExpandKind kind, bool in_links) {
  switch (kind) {
    case ExpandKind::All:
      return true;
    case ExpandKind::Subordinate:
      return !in_links;
    case ExpandKind::Links:
      return in_links;
    case ExpandKind::None:
      break;
  }
  return false;
}

// "/a/b?x=1" -> ("/a/b", "x=1").
std::pair<std::string, std::string> splitLink(const std::string& link) {
  const size_t question = link.find('?');
  if (question == std::string::npos) return {link, {}};
  return {link.substr(0, question), link.substr(question + 1)};
}

// One request's application of its query options: the reads it has made and may still make,
// and the bytes it has added.
class QueryRun {
 public:
  QueryRun(const Options& options, const Request& request, ResourceReader& reader)
      : options_(options), request_(request), reader_(reader) {}

  // Applies everything to `res`; on failure `res` is the error.
  void run(Response& res) {
    Json& body = res.body;
    const bool collection = isCollection(body);
    if ((options_.filter || options_.top || options_.skip) && !collection) {
      messages::queryNotSupportedOnResource(res);
      return;
    }
    if (collection) {
      if (options_.filter) {
        if (!filterMembers(body, res)) return;
      } else {
        pageMembers(body);
      }
    }
    if (options_.expand.kind != ExpandKind::None &&
        !expandIn(body, options_.expand.levels, false)) {
      failWithBound(res);
      return;
    }
    if (options_.select) applySelect(body, *options_.select);
  }

 private:
  // A read within the bounds: nullopt when the bound is reached (then bound_ says which).
  std::optional<Response> read(const std::string& path, const std::string& query,
                               std::string_view parameter) {
    if (reads_ == kMaxReadsPerRequest) {
      bound_ = Bound{parameter, "at most " + std::to_string(kMaxReadsPerRequest) +
                                    " resources read for one request"};
      return std::nullopt;
    }
    ++reads_;
    return reader_.read(path, query);
  }

  // What an added value costs of kMaxAddedBytes; false when it is spent.
  bool charge(const Json& value, std::string_view parameter) {
    added_bytes_ += approximateSize(value);
    if (added_bytes_ <= kMaxAddedBytes) return true;
    bound_ = Bound{parameter,
                   "at most " + std::to_string(kMaxAddedBytes) + " bytes added to one answer"};
    return false;
  }

  void failWithBound(Response& res) {
    const std::string value = request_.queryParameter(bound_.parameter).value_or("");
    res = Response{};
    messages::queryParameterOutOfRange(res, shownQueryText(value), bound_.parameter, bound_.range);
  }

  bool membersWillExpand() const {
    return options_.expand.kind == ExpandKind::Subordinate ||
           options_.expand.kind == ExpandKind::All;
  }

  // $filter, then $skip and $top on what matched. A member that is a reference is read to be
  // judged (one that cannot be read does not match); a route that pages itself is read page
  // after page through its own next links. Only the members of the page asked for are kept.
  bool filterMembers(Json& body, Response& res) {
    const uint64_t skip = options_.skip.value_or(0);
    const uint64_t top = options_.top.value_or(UINT64_MAX);
    Json kept = Json::array();
    uint64_t matched = 0;
    Json page_body;  // the pages after the handler's own
    Json* page = &body;
    while (true) {
      for (Json& member : (*page)[kMembers]) {
        std::optional<Json> fetched;
        if (isResourceReference(member)) {
          std::optional<Response> read_member =
              read(member["@odata.id"].get<std::string>(), "", kFilter);
          if (!read_member) return fail(res);
          if (read_member->status != 200 || !read_member->body.is_object()) continue;
          fetched = std::move(read_member->body);
        }
        if (!options_.filter->matches(fetched ? *fetched : member)) continue;
        const uint64_t index = matched++;
        if (index < skip || index - skip >= top) continue;
        if (!fetched && !charge(member, kFilter)) return fail(res);
        if (fetched && membersWillExpand())
          prefetched_[member["@odata.id"].get<std::string>()] = std::move(*fetched);
        kept.push_back(std::move(member));
      }
      if (!options_.read_every_page) break;
      auto next = page->find(kNextLink);
      if (next == page->end() || !next->is_string()) break;
      const auto [path, query] = splitLink(next->get<std::string>());
      std::optional<Response> next_page = read(path, query, kFilter);
      if (!next_page) return fail(res);
      if (next_page->status != 200 || !isCollection(next_page->body)) {
        res = std::move(*next_page);  // why the rest of the collection cannot be read
        if (res.status == 200) {
          res = Response{};
          messages::internalError(res);
        }
        return false;
      }
      page_body = std::move(next_page->body);
      page = &page_body;
    }
    body[kMembers] = std::move(kept);
    body[kMembersCount] = matched;
    body.erase(std::string(kNextLink));
    const uint64_t shown = body[kMembers].size();
    if (options_.top && matched - std::min(matched, skip) > shown)
      body[kNextLink] = nextLink(body, skip + shown);
    return true;
  }

  bool fail(Response& res) {
    failWithBound(res);
    return false;
  }

  // $skip and $top without a filter; a route's own next link keeps the client's other
  // parameters. Members@odata.count stays the whole collection's.
  void pageMembers(Json& body) {
    Json& members = body[kMembers];
    const uint64_t total = members.size();
    const uint64_t skip = std::min<uint64_t>(options_.skip.value_or(0), total);
    if (skip > 0) members.erase(members.begin(), members.begin() + static_cast<ptrdiff_t>(skip));
    if (options_.top && members.size() > *options_.top)
      members.erase(members.begin() + static_cast<ptrdiff_t>(*options_.top), members.end());
    const uint64_t shown = members.size();
    if (options_.top && total - skip > shown) {
      body[kNextLink] = nextLink(body, skip + shown);
    } else if (auto own = body.find(kNextLink); own != body.end() && own->is_string()) {
      *own = linkWithQuery(own->get<std::string>(), request_.query);
    }
  }

  std::string nextLink(const Json& body, uint64_t skip) const {
    return body["@odata.id"].get<std::string>() + "?" + queryWithSkip(request_.query, skip);
  }

  // Replaces the references `options_.expand` asks for by the resources, `levels` deep. False
  // when a bound is reached (bound_); a reference that cannot be read stays a reference.
  bool expandIn(Json& node, int levels, bool in_links) {
    if (node.is_array()) {
      for (Json& item : node)
        if (!expandIn(item, levels, in_links)) return false;
      return true;
    }
    if (!node.is_object()) return true;
    if (isResourceReference(node)) {
      if (!expands(options_.expand.kind, in_links)) return true;
      std::optional<Json> resource = resourceAt(node["@odata.id"].get<std::string>());
      if (!resource) return bound_.parameter.empty();  // unreadable: stays a reference
      if (!charge(*resource, kExpand)) return false;
      node = std::move(*resource);
      return levels <= 1 || expandIn(node, levels - 1, false);
    }
    for (auto it = node.begin(); it != node.end(); ++it)
      if (!expandIn(it.value(), levels, in_links || it.key() == "Links")) return false;
    return true;
  }

  // The resource at `uri`: read for the filter already, or now. nullopt when it cannot be read
  // or a bound is reached (then bound_ is set).
  std::optional<Json> resourceAt(const std::string& uri) {
    if (auto it = prefetched_.find(uri); it != prefetched_.end()) {
      Json resource = std::move(it->second);
      prefetched_.erase(it);
      return resource;
    }
    std::optional<Response> answer = read(uri, "", kExpand);
    if (!answer || answer->status != 200 || !answer->body.is_object() ||
        !answer->body.contains("@odata.id"))
      return std::nullopt;
    return std::move(answer->body);
  }

  struct Bound {
    std::string_view parameter;  // empty: none reached
    std::string range;
  };

  const Options& options_;
  const Request& request_;
  ResourceReader& reader_;
  size_t reads_ = 0;
  size_t added_bytes_ = 0;
  Bound bound_;
  // Members read for the filter, by @odata.id, until $expand puts them in place.
  std::unordered_map<std::string, Json> prefetched_;
};

}  // namespace

size_t approximateSize(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: {
      size_t size = 2;
      for (auto it = value.begin(); it != value.end(); ++it)
        size += it.key().size() + 4 + approximateSize(it.value());
      return size;
    }
    case Json::value_t::array: {
      size_t size = 2;
      for (const Json& item : value) size += approximateSize(item) + 1;
      return size;
    }
    case Json::value_t::string:
      return value.get_ref<const std::string&>().size() + 2;
    default:
      return 8;
  }
}

void applyOptions(const Options& options, const Request& request, ResourceReader& reader,
                  Response& res) {
  QueryRun(options, request, reader).run(res);
}

}  // namespace dualsp::web::query
