// The service's side of the broker module: find it, load it, call its factory
// (src/dropcopy/amqp_link.hpp). No rabbitmq-c here.
#include <stdexcept>

#include "amqp_link.hpp"
#include "peregrine/agent/module.hpp"

namespace peregrine::dropcopy::detail {

std::unique_ptr<AmqpLink> open_amqp_link(const std::string& module_path) {
  const std::string path = module_path.empty() ? agent::beside_binary(kAmqpModuleFile) : module_path;
  std::string error;
  void* symbol = agent::module_symbol(path, kAmqpOpenSymbol, error);
  if (symbol == nullptr) throw std::runtime_error("the drop copy's broker link (" + path + ") could not be loaded: " + error);
  const auto open = reinterpret_cast<decltype(&peregrine_amqp_open)>(symbol);
  AmqpLink* link = open(kAmqpModuleAbi, &error);
  if (link == nullptr) throw std::runtime_error(error.empty() ? path + " refused to make a broker link" : error);
  return std::unique_ptr<AmqpLink>(link);
}

}  // namespace peregrine::dropcopy::detail
