-- seed's bulk path for messages. COPY runs over the copy sub-protocol, which cornucopia cannot
-- compile, so it lives here instead of in queries/; bottles streams binary rows into it.
--! copy_messages
COPY message (content, user_id) FROM STDIN (FORMAT binary);
