#include "people/people.h"

void people_me_register_statements(void);
void people_directory_register_statements(void);

void people_register_statements(void)
{
	people_me_register_statements();
	people_directory_register_statements();
}
