// The person card (/u/{username}): block or unblock them from here.

import { blockToggle } from "./privacy.js";

const slot = document.querySelector("[data-person-block]");
if (slot) {
  const { userId, firstName, secondName, blocked } = slot.dataset;
  const person = { user_id: userId, first_name: firstName, second_name: secondName };
  // A block ends a friendship and requests: the card's offer changes, so it is drawn again.
  slot.append(blockToggle(person, blocked === "true", () => location.reload()));
}
