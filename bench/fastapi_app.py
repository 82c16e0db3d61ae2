"""bottles-web's peer in `cargo xtask bench`: the same endpoints on FastAPI + SQLAlchemy 2 async
ORM + asyncpg, the usual Python move for the notebook's models. Run under uvicorn, one worker
per core:

    DATABASE_URL=postgres://… uvicorn fastapi_app:app --workers 2 --app-dir bench

The models are the notebook's (bench/notebook.py); sessions come from one engine per worker
with SQLAlchemy's default pool.
"""

import os

import sqlalchemy as sa
from fastapi import Depends, FastAPI, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from notebook import Message, User, engine_for

engine = engine_for(os.environ["DATABASE_URL"])
sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
app = FastAPI()


async def session():
    async with sessions() as session:
        yield session


class MessageOut(BaseModel):
    id: int
    content: str
    user_id: int


class UserOut(BaseModel):
    id: int
    name: str
    messages: list[MessageOut]


class Page(BaseModel):
    messages: list[MessageOut]


class NewMessage(BaseModel):
    content: str = Field(min_length=1, max_length=10_000)


@app.get("/messages", response_model=Page)
async def messages(
    user_name: str,
    limit: int = Query(100, ge=1, le=1000),
    after_id: int = 0,
    db: AsyncSession = Depends(session),
):
    statement = (
        sa.select(Message)
        .join(User)
        .where(User.name == user_name, Message.id > after_id)
        .order_by(Message.id)
        .limit(limit)
    )
    return Page(messages=[MessageOut.model_validate(m, from_attributes=True) for m in (await db.scalars(statement)).all()])


@app.get("/users/{user_id}", response_model=UserOut)
async def user(user_id: int, db: AsyncSession = Depends(session)):
    found = await db.get(User, user_id, options=[selectinload(User.messages)])
    if found is None:
        raise HTTPException(status_code=404, detail=f"no user with id {user_id}")
    return UserOut.model_validate(found, from_attributes=True)


@app.post("/users/{user_id}/messages", response_model=MessageOut, status_code=201)
async def create_message(user_id: int, new: NewMessage, db: AsyncSession = Depends(session)):
    message = Message(content=new.content, user_id=user_id)
    db.add(message)
    try:
        await db.commit()
    except IntegrityError:
        raise HTTPException(status_code=404, detail=f"no user with id {user_id}")
    return MessageOut.model_validate(message, from_attributes=True)


@app.get("/health")
async def health(db: AsyncSession = Depends(session)):
    await db.execute(sa.text("SELECT 1"))
    return {"status": "ok"}
