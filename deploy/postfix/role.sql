CREATE ROLE agentid_postfix LOGIN PASSWORD 'CHANGE-ME';
REVOKE ALL ON SCHEMA public FROM agentid_postfix;
GRANT USAGE ON SCHEMA public TO agentid_postfix;
GRANT SELECT ON public.postfix_domains, public.postfix_recipients TO agentid_postfix;
