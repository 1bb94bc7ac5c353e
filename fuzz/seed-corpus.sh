#!/usr/bin/env bash
# Writes the hand-written seeds into fuzz/corpus/<target>/ (gitignored), for `cargo fuzz run`.
# Safe to run again: it only (re)writes the seed files, never the corpus the fuzzer grew.
set -euo pipefail
cd "$(dirname "$0")"

seed() { # seed TARGET NAME CONTENT
  mkdir -p "corpus/$1"
  printf '%s' "$3" >"corpus/$1/seed-$2"
}

# validate: params in wire form (snake_case), as a JSON object; "$binaries" gives binary values.
seed validate send-text '{"touser":"OPENID","msgtype":"text","text":{"content":"Hello World"}}'
seed validate send-image '{"touser":"OPENID","msgtype":"image","image":{"media_id":"MEDIA_ID"}}'
seed validate send-link '{"touser":"OPENID","msgtype":"link","link":{"title":"Happy Day","description":"Is Really A Happy Day","url":"URL","thumb_url":"THUMB_URL"}}'
seed validate send-miniprogrampage '{"touser":"OPENID","msgtype":"miniprogrampage","miniprogrampage":{"title":"title","pagepath":"pagepath","thumb_media_id":"thumb_media_id"}}'
seed validate set-typing '{"touser":"OPENID","command":"Typing"}'
seed validate cancel-typing '{"touser":"OPENID","command":"CancelTyping"}'
seed validate upload '{"type":"image","media":{"content_type":"image/png","value":null},"$binaries":{"media.value":3}}'
seed validate upload-file-name '{"type":"image","media":{"contentType":"image/jpeg","fileName":"a.jpg","value":null},"$binaries":{"media.value":"\u0089PNG"}}'
seed validate get-temp-media '{"media_id":"MEDIA_ID"}'
seed validate send-camel '{"touser":"OPENID","msgtype":"miniprogrampage","miniprogrampage":{"title":"t","pagepath":"p","thumbMediaId":"m"}}'
# Not JSON: bytes for the structured generator.
seed validate structured "$(printf 'structured\001\002\003\004\005\006\007\010')"

# case: keys both ways, and replies (JSON objects) for map_to_camel.
seed case thumb-media-id 'thumbMediaId'
seed case media-id 'media_id'
seed case thumb-url 'thumbURL'
seed case double-underscore 'a__b___c_'
seed case leading '_x'
seed case non-ascii '内容Key_é_ß'
seed case reply '{"media_id":"m_id","item_list":[{"created_at":1}],"x":{"deep_key":"v_v"}}'
seed case collision '{"a_b":1,"aB":2,"a__b":{"c_d":[{"e_f":null}]}}'

echo "seeds written to $(pwd)/corpus/{case,validate}"
