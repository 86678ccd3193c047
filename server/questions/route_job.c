/* Not built yet. */
#include "questions/questions.h"
#include "http/request.h"

void questions_register_jobs(void) {}
void routing_register_statements(void) {}
