#include "banyan/messaging/idempotency.hpp"

#include <string>

#include "banyan/errors.hpp"
#include "messaging/queue_store.hpp"
#include "store/database_state.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::messaging {

bool record_processed(store::UnitOfWork& uow, std::string_view consumer,
                      std::string_view message_id) {
  if (consumer.empty() || consumer.size() > 190)
    throw ValidationError("consumer: must be 1 to 190 bytes", "consumer");
  if (message_id.empty() || message_id.size() > 190)
    throw ValidationError("message_id: must be 1 to 190 bytes", "message_id");
  island::SqlFragment ins;
  ins.text(detail::insert_ignore(uow))
      .text("processed_messages (consumer, message_id, processed_at) VALUES (")
      .param(store::detail::text_param(std::string(consumer)))
      .text(", ")
      .param(store::detail::text_param(std::string(message_id)))
      .text(", ")
      .param(store::detail::int_param(detail::now_us(uow)))
      .text(")");
  return island::execute(store::Session(uow).tx(), ins) == 1;
}

}  // namespace banyan::messaging
