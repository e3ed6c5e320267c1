#pragma once
// A GET's query parameters applied to the handler's answer, in DSP0266's order: $filter,
// $skip, $top, $expand, then $select (docs/WEB.md "Protocol"). The members a filter looks at,
// the pages of a collection that pages itself, and the resources $expand puts in place of
// their references come from a ResourceReader: the dispatcher's internal GET, as the same
// caller through the same routes and handlers (dispatcher.cpp).

#include <cstddef>
#include <string>

#include "webserver/http_types.hpp"
#include "webserver/query.hpp"

namespace dualsp::web::query {

// Bounds on the work of one request; reaching one is a 400 QueryParameterOutOfRange naming
// the parameter that asked for it, never a partial answer.
inline constexpr size_t kMaxReadsPerRequest = 5000;
// What $expand and a filtered log may add to the answer (estimated as serialized).
inline constexpr size_t kMaxAddedBytes = 4 * 1024 * 1024;

class ResourceReader {
 public:
  virtual ~ResourceReader() = default;
  // The answer to a GET of `path` with `query` (normally empty).
  virtual Response read(const std::string& path, const std::string& query) = 0;
};

// Applies `options` to `res`, a 200 whose body is a Redfish resource (an object with an
// @odata.id), for `request` (whose query the next-page links repeat). On a bound reached,
// $filter, $top or $skip on a resource that is not a collection, or a page of the collection
// that cannot be read, `res` becomes that error.
void applyOptions(const Options& options, const Request& request, ResourceReader& reader,
                  Response& res);

// About what `value` takes serialized, without serializing it: the bound on added bytes.
size_t approximateSize(const Json& value);

}  // namespace dualsp::web::query
